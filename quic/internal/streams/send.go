package streams

// SendState is the sending half's state (RFC 9000 §3.1).
type SendState uint8

const (
	SendReady      SendState = iota // nothing sent yet
	SendSend                        // sending data
	SendDataSent                    // FIN sent, waiting for acks
	SendDataRecvd                   // everything acknowledged (terminal)
	SendResetSent                   // RESET_STREAM sent, waiting for its ack
	SendResetRecvd                  // RESET_STREAM acknowledged (terminal)
)

// sendStream is the sending half of a stream: a bounded buffer of the
// application's bytes plus which offset ranges are in flight, acknowledged
// or lost. Offsets below q.base are acknowledged and forgotten; [q.base,
// sentOff) has been sent at least once; [sentOff, q.end()) is new.
type sendStream struct {
	id    StreamID
	state SendState
	q     sendQueue
	limit uint64 // send buffer bound: q.len() never exceeds it

	sentOff uint64
	acked   rangeSet // acknowledged ranges above q.base
	lost    rangeSet // ranges to retransmit, sorted: oldest data first

	finWritten bool // CloseWrite was called
	finSent    bool
	finAcked   bool
	finLost    bool // the FIN must be sent again
	announce   bool // an empty STREAM frame at offset 0 is owed (Announce)

	maxData     uint64 // peer's MAX_STREAM_DATA
	blockedSent bool   // STREAM_DATA_BLOCKED queued/sent for maxData
	blockedAt   uint64

	finalSize uint64 // after a reset
	resetCode uint64
	stopped   bool // peer sent STOP_SENDING
	stopCode  uint64

	wantWritable bool // a Write came up short; signal when space frees
}

func newSendStream(id StreamID, maxData, bufLimit uint64) *sendStream {
	return &sendStream{id: id, maxData: maxData, limit: bufLimit}
}

func (s *sendStream) isReset() bool { return s.state >= SendResetSent }

// write copies as much of p as the buffer bound allows.
func (s *sendStream) write(p []byte) (int, error) {
	switch {
	case s.stopped:
		return 0, &StoppedError{ID: s.id, Code: s.stopCode}
	case s.finWritten || s.isReset():
		return 0, ErrWriteClosed
	}
	room := s.limit - uint64(s.q.len())
	if s.q.end()+uint64(len(p)) > MaxVarint {
		return 0, ErrFinalSizeTooLarge
	}
	n := len(p)
	if uint64(n) > room {
		n = int(room)
	}
	s.q.write(p[:n])
	if n < len(p) {
		s.wantWritable = true
		return n, ErrWouldBlock
	}
	return n, nil
}

func (s *sendStream) closeWrite() error {
	if s.stopped {
		return &StoppedError{ID: s.id, Code: s.stopCode}
	}
	if s.isReset() {
		return ErrWriteClosed
	}
	s.finWritten = true
	return nil
}

// hasRetransmit reports lost data or a lost FIN waiting to be resent;
// retransmissions need no flow-control credit.
func (s *sendStream) hasRetransmit() bool {
	return !s.isReset() && (len(s.lost) > 0 || s.finLost)
}

// pendingNew is the number of bytes written but never sent.
func (s *sendStream) pendingNew() uint64 {
	if s.isReset() {
		return 0
	}
	return s.q.end() - s.sentOff
}

// finReady reports a FIN that can go out without new data.
func (s *sendStream) finReady() bool {
	return !s.isReset() && s.finWritten && !s.finSent && s.sentOff == s.q.end()
}

// streamBlocked reports new data held back by the peer's stream limit.
func (s *sendStream) streamBlocked() bool {
	return s.pendingNew() > 0 && s.sentOff >= s.maxData
}

// next builds the next STREAM frame of at most maxSize bytes: lost data
// first, then new data within both the stream limit and connCredit. It
// returns the frame, a view of its payload (valid until the stream is next
// changed) and how many new bytes it sends.
func (s *sendStream) next(maxSize int, connCredit uint64) (Frame, []byte, uint64, bool) {
	if s.isReset() || s.state == SendDataRecvd {
		return Frame{}, nil, 0, false
	}
	if len(s.lost) > 0 {
		sp := s.lost[0]
		room := streamDataRoom(maxSize, s.id, sp.start)
		if room < 1 {
			return Frame{}, nil, 0, false
		}
		n := min(uint64(room), sp.end-sp.start)
		s.lost.remove(sp.start, sp.start+n)
		end := sp.start + n
		fin := s.finSent && !s.finAcked && end == s.q.end() && s.finLost
		if fin {
			s.finLost = false
		}
		f := Frame{Kind: FrameStream, ID: s.id, Offset: sp.start, Length: n, Fin: fin}
		return f, s.q.view(sp.start, int(n)), 0, true
	}
	if s.finLost {
		if streamDataRoom(maxSize, s.id, s.q.end()) < 0 {
			return Frame{}, nil, 0, false
		}
		s.finLost = false
		return Frame{Kind: FrameStream, ID: s.id, Offset: s.q.end(), Fin: true}, nil, 0, true
	}
	room := streamDataRoom(maxSize, s.id, s.sentOff)
	if room < 0 {
		return Frame{}, nil, 0, false
	}
	n := min(s.pendingNew(), uint64(room), connCredit)
	if s.maxData > s.sentOff {
		n = min(n, s.maxData-s.sentOff)
	} else {
		n = 0
	}
	end := s.sentOff + n
	fin := s.finWritten && !s.finSent && end == s.q.end()
	if n == 0 && !fin {
		return s.nextAnnounce()
	}
	s.announce = false // any frame at offset 0 opens the stream
	f := Frame{Kind: FrameStream, ID: s.id, Offset: s.sentOff, Length: n, Fin: fin}
	data := s.q.view(s.sentOff, int(n))
	s.sentOff = end
	if s.state == SendReady {
		s.state = SendSend
	}
	if fin {
		s.finSent = true
		s.state = SendDataSent
	}
	return f, data, n, true
}

// onAcked records an acknowledged STREAM frame. It reports whether buffer
// space was freed.
func (s *sendStream) onAcked(off, length uint64, fin bool) (freed bool) {
	if s.isReset() || s.state == SendDataRecvd {
		return false
	}
	end := min(off+length, s.sentOff)
	if off < s.q.base {
		off = s.q.base
	}
	if off < end {
		s.acked.add(off, end)
		s.lost.remove(off, end)
	}
	if fin {
		s.finAcked, s.finLost = true, false
	}
	if len(s.acked) > 0 && s.acked[0].start == s.q.base {
		newBase := s.acked[0].end
		s.acked.popFront()
		s.q.advance(newBase)
		s.lost.removeBelow(newBase)
		freed = true
	}
	if s.finAcked && s.finSent && s.q.base == s.q.end() {
		s.state = SendDataRecvd
		s.q.release()
		s.acked, s.lost = nil, nil
	}
	return freed
}

// onLost schedules the unacknowledged part of a lost STREAM frame again.
func (s *sendStream) onLost(off, length uint64, fin bool) {
	if s.isReset() || s.state == SendDataRecvd {
		return
	}
	end := min(off+length, s.sentOff)
	if off < s.q.base {
		off = s.q.base
	}
	// Add [off, end) minus whatever was acknowledged meanwhile.
	for _, a := range s.acked {
		if off >= end || a.start >= end {
			break
		}
		if a.end <= off {
			continue
		}
		if a.start > off {
			s.lost.add(off, a.start)
		}
		off = a.end
	}
	if off < end {
		s.lost.add(off, end)
	}
	if fin && !s.finAcked {
		s.finLost = true
	}
	if length == 0 && !fin && s.sentOff == 0 {
		s.announce = true // a lost announcement, and nothing sent since
	}
}

// reset abandons the stream (CancelWrite or STOP_SENDING). The final size
// is what was sent so far. It reports false if the stream already finished
// or was reset.
func (s *sendStream) reset(code uint64) bool {
	if s.isReset() || s.state == SendDataRecvd {
		return false
	}
	s.state = SendResetSent
	s.finalSize = s.sentOff
	s.resetCode = code
	s.q.release()
	s.acked, s.lost = nil, nil
	s.finLost = false
	return true
}

// onResetAcked moves to the terminal Reset Recvd state.
func (s *sendStream) onResetAcked() {
	if s.state == SendResetSent {
		s.state = SendResetRecvd
	}
}

// done reports whether the sending half is terminal.
func (s *sendStream) done() bool {
	return s.state == SendDataRecvd || s.state == SendResetRecvd
}
