package streams

import "errors"

// This file is the API layer's interface: opening, accepting, reading,
// writing and closing streams.

// OpenStream opens a new locally initiated stream. It fails with
// ErrStreamLimit while the peer's MAX_STREAMS is exhausted, after queueing
// one STREAMS_BLOCKED for that limit.
func (m *Manager) OpenStream(d Dir) (StreamID, error) {
	if m.nextLocal[d] >= m.maxLocal[d] {
		if !m.blockedEver[d] || m.blockedSentAt[d] != m.maxLocal[d] {
			m.blockedEver[d] = true
			m.blockedSentAt[d] = m.maxLocal[d]
			m.blockedStreams[d] = true
		}
		return 0, ErrStreamLimit
	}
	id := NewStreamID(m.side, d, m.nextLocal[d])
	m.nextLocal[d]++
	m.newStream(id)
	return id, nil
}

// AcceptStream returns the next peer-initiated stream of type d, in the
// order of stream IDs.
func (m *Manager) AcceptStream(d Dir) (StreamID, bool) {
	if m.nextAccept[d] >= m.nextRemote[d] {
		return 0, false
	}
	id := NewStreamID(m.side.Peer(), d, m.nextAccept[d])
	m.nextAccept[d]++
	return id, true
}

// Read copies received data into p. It returns ErrWouldBlock when no data
// is available yet, io.EOF (possibly with n > 0) at the end of the stream,
// *ResetError if the peer reset it, and ErrUnknownStream for a stream we
// cannot read from (or one already fully consumed and forgotten).
func (m *Manager) Read(id StreamID, p []byte) (int, error) {
	s := m.streams[id]
	if s == nil || s.recv == nil {
		return 0, ErrUnknownStream
	}
	r := s.recv
	s.readSignal = false
	before := r.fc.consumed
	n, err := r.read(p)
	if freed := r.fc.consumed - before; freed > 0 {
		m.connRecv.consumed += freed
		m.markConnDirty()
		if r.wantsMaxStreamData() {
			m.markStreamDirty(s)
		}
	}
	if err != nil && !errors.Is(err, ErrWouldBlock) {
		m.maybeForget(s)
	}
	return n, err
}

// Write copies up to the send-buffer bound of p. A short write returns
// ErrWouldBlock; EventWritable follows when space frees up.
func (m *Manager) Write(id StreamID, p []byte) (int, error) {
	s := m.streams[id]
	if s == nil || s.send == nil {
		return 0, ErrUnknownStream
	}
	n, err := s.send.write(p)
	if n > 0 {
		m.queueSend(s)
	}
	return n, err
}

// CloseWrite ends the sending half gracefully: a FIN follows the buffered
// data.
func (m *Manager) CloseWrite(id StreamID) error {
	s := m.streams[id]
	if s == nil || s.send == nil {
		return ErrUnknownStream
	}
	if err := s.send.closeWrite(); err != nil {
		return err
	}
	m.queueSend(s)
	return nil
}

// CancelWrite abandons the sending half with RESET_STREAM(code); unsent and
// unacknowledged data is dropped.
func (m *Manager) CancelWrite(id StreamID, code uint64) error {
	s := m.streams[id]
	if s == nil || s.send == nil {
		return ErrUnknownStream
	}
	if s.send.reset(code) {
		s.needReset = true
		m.queueCtrl(s)
	}
	return nil
}

// CancelRead abandons the receiving half: buffered data is dropped, further
// data discarded, and STOP_SENDING(code) asks the peer to stop.
func (m *Manager) CancelRead(id StreamID, code uint64) error {
	s := m.streams[id]
	if s == nil || s.recv == nil {
		return ErrUnknownStream
	}
	freed, sendStop := s.recv.cancel(code)
	if freed > 0 {
		m.connRecv.consumed += freed
		m.markConnDirty()
	}
	if sendStop {
		s.needStop = true
		m.queueCtrl(s)
	}
	m.maybeForget(s)
	return nil
}

// StreamInfo is a snapshot of one stream, for the API layer and tests.
type StreamInfo struct {
	HasSend, HasRecv bool
	Send             SendState
	Recv             RecvState
	Buffered         int // bytes in the send buffer
	// Acked is how many bytes from the start of the stream the peer has
	// acknowledged without a gap, so a caller can tell which writes
	// reached the peer's QUIC stack before the connection died.
	Acked      uint64
	Readable   uint64 // contiguous bytes Read would return now
	RecvBlocks int    // receive-buffer blocks allocated
}

// Info reports a stream's state; false if the stream is unknown.
func (m *Manager) Info(id StreamID) (StreamInfo, bool) {
	s := m.streams[id]
	if s == nil {
		return StreamInfo{}, false
	}
	var in StreamInfo
	if s.send != nil {
		in.HasSend, in.Send, in.Buffered, in.Acked = true, s.send.state, s.send.q.len(), s.send.q.base
	}
	if s.recv != nil {
		in.HasRecv, in.Recv = true, s.recv.state
		in.Readable, in.RecvBlocks = s.recv.buf.readable(), s.recv.buf.bufferedBlocks()
	}
	return in, true
}
