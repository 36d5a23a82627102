package streams

import "io"

var errEOF = io.EOF

// RecvState is the receiving half's state (RFC 9000 §3.2).
type RecvState uint8

const (
	RecvRecv       RecvState = iota // receiving, final size unknown
	RecvSizeKnown                   // final size known, data missing
	RecvDataRecvd                   // all data received, not all read
	RecvDataRead                    // application read everything (terminal)
	RecvResetRecvd                  // peer reset the stream
	RecvResetRead                   // application saw the reset (terminal)
)

// recvStream is the receiving half of a stream. Limit checks that involve
// the connection (connection flow control) are done by the Manager.
type recvStream struct {
	id    StreamID
	state RecvState
	buf   reassembler
	fc    recvWindow

	highest    uint64 // highest offset+length seen
	finalSize  uint64
	finalKnown bool
	resetCode  uint64

	stopped  bool // CancelRead: discard data, count it consumed at once
	stopCode uint64
}

func newRecvStream(id StreamID, window, maxWindow uint64) *recvStream {
	return &recvStream{id: id, fc: newRecvWindow(window, maxWindow)}
}

// recvResult tells the Manager what a frame changed.
type recvResult struct {
	newBytes  uint64 // growth of highest: connection flow-control usage
	freed     uint64 // bytes now consumed without a Read (stopped/reset)
	readable  bool   // the app has something new to Read (data, EOF, reset)
	wasReset  bool   // this frame was a new RESET_STREAM
	finalSeen bool   // the final size just became known
}

// checkEnd validates a frame reaching offset end against the final size and
// stream flow control (RFC 9000 §4.5, §4.1).
func (r *recvStream) checkEnd(end uint64, fin bool) *Error {
	if end > MaxVarint {
		return protoErr(FlowControlError, "stream %d offset beyond 2^62-1", uint64(r.id))
	}
	if r.finalKnown {
		if end > r.finalSize || (fin && end != r.finalSize) {
			return protoErr(FinalSizeError, "stream %d: final size %d changed (frame ends at %d)", uint64(r.id), r.finalSize, end)
		}
	} else if fin && end < r.highest {
		return protoErr(FinalSizeError, "stream %d: final size %d below received data %d", uint64(r.id), end, r.highest)
	}
	if !r.fc.allows(end) {
		return protoErr(FlowControlError, "stream %d: data up to %d exceeds limit %d", uint64(r.id), end, r.fc.limit)
	}
	return nil
}

// onData handles the content of a STREAM frame.
func (r *recvStream) onData(off uint64, data []byte, fin bool) (recvResult, error) {
	var res recvResult
	end := off + uint64(len(data))
	if end < off {
		return res, protoErr(FlowControlError, "stream %d offset overflow", uint64(r.id))
	}
	if err := r.checkEnd(end, fin); err != nil {
		return res, err
	}
	if end > r.highest {
		res.newBytes = end - r.highest
		r.highest = end
	}
	if fin && !r.finalKnown {
		r.finalKnown, r.finalSize = true, end
		res.finalSeen = true
		if r.state == RecvRecv {
			r.state = RecvSizeKnown
		}
	}
	if r.stopped || r.state >= RecvDataRead {
		// Nothing will ever read these bytes: count them consumed now.
		res.freed = res.newBytes
		r.fc.consumed += res.freed
		return res, nil
	}
	if r.state == RecvDataRecvd {
		return res, nil // all data already here; this is a duplicate
	}
	grew, err := r.buf.push(off, data)
	if err != nil {
		return res, err
	}
	res.readable = grew
	if r.state == RecvSizeKnown && r.buf.readOff+r.buf.readable() == r.finalSize {
		r.state = RecvDataRecvd
		res.readable = true
	}
	return res, nil
}

// onReset handles RESET_STREAM.
func (r *recvStream) onReset(code, finalSize uint64) (recvResult, error) {
	var res recvResult
	if err := r.checkEnd(finalSize, true); err != nil {
		return res, err
	}
	if finalSize > r.highest {
		res.newBytes = finalSize - r.highest
		r.highest = finalSize
	}
	if !r.finalKnown {
		res.finalSeen = true
	}
	r.finalKnown, r.finalSize = true, finalSize
	switch r.state {
	case RecvRecv, RecvSizeKnown:
	default:
		// Already complete or reset: all data is in or the reset was seen.
		// (RFC 9000 §3.2 lets us keep delivering data in Data Recvd.)
		if r.stopped {
			res.freed = res.newBytes
			r.fc.consumed += res.freed
		}
		return res, nil
	}
	// Bytes never read are released to the connection window at once.
	res.freed = finalSize - r.fc.consumed
	r.fc.consumed = finalSize
	r.buf.discard()
	r.resetCode = code
	res.wasReset = true
	if r.stopped {
		r.state = RecvResetRead // nobody reads a stopped stream
	} else {
		r.state = RecvResetRecvd
		res.readable = true
	}
	return res, nil
}

// read copies data into p. It returns ErrWouldBlock when nothing is
// available yet, io.EOF at the end, or a *ResetError.
func (r *recvStream) read(p []byte) (int, error) {
	switch {
	case r.stopped:
		return 0, ErrReadCanceled
	case r.state == RecvResetRecvd || r.state == RecvResetRead:
		r.state = RecvResetRead
		return 0, &ResetError{ID: r.id, Code: r.resetCode}
	case r.state == RecvDataRead:
		return 0, errEOF
	}
	n := r.buf.read(p)
	r.fc.consumed = r.buf.readOff
	if r.finalKnown && r.buf.readOff == r.finalSize && r.state == RecvDataRecvd {
		r.buf.discard()
		r.state = RecvDataRead
		return n, errEOF
	}
	if n == 0 && len(p) > 0 {
		return 0, ErrWouldBlock
	}
	return n, nil
}

// cancel implements CancelRead. It reports the bytes released to the
// connection window and whether STOP_SENDING is worth sending.
func (r *recvStream) cancel(code uint64) (freed uint64, sendStop bool) {
	if r.stopped {
		return 0, false
	}
	r.stopped, r.stopCode = true, code
	freed = r.highest - r.fc.consumed
	r.fc.consumed = r.highest
	r.buf.discard()
	switch r.state {
	case RecvRecv, RecvSizeKnown:
		sendStop = true
	case RecvDataRecvd:
		r.state = RecvDataRead
	case RecvResetRecvd:
		r.state = RecvResetRead
	}
	return freed, sendStop
}

// done reports whether the receiving half needs no more state: the app is
// finished with it and the final size is known (so connection-level
// accounting for it is complete).
func (r *recvStream) done() bool {
	switch r.state {
	case RecvDataRead, RecvResetRead:
		return true
	}
	return r.stopped && r.finalKnown
}

// wantsStopSending reports whether a (lost) STOP_SENDING is still useful.
func (r *recvStream) wantsStopSending() bool {
	return r.stopped && !r.finalKnown
}

// wantsMaxStreamData reports whether the peer could still use more credit.
func (r *recvStream) wantsMaxStreamData() bool {
	return r.state == RecvRecv && !r.stopped
}
