package streams

// This file handles stream-related frames received from the peer. Every
// error is an *Error the core turns into CONNECTION_CLOSE.

// lookup finds the stream a received frame refers to, opening peer streams
// implicitly (RFC 9000 §3.2: a frame for stream N opens all lower streams
// of its type). It returns nil, nil for a stream that existed but is
// already forgotten; frames for those are ignored.
func (m *Manager) lookup(id StreamID) (*stream, error) {
	d := id.Dir()
	idx := id.Index()
	if id.IsLocal(m.side) {
		if idx >= m.nextLocal[d] {
			return nil, protoErr(StreamStateError, "frame for stream %d we have not opened", uint64(id))
		}
		return m.streams[id], nil
	}
	if idx >= m.maxRemote[d] {
		return nil, protoErr(StreamLimitError, "peer opened stream %d beyond its limit %d", uint64(id), m.maxRemote[d])
	}
	for m.nextRemote[d] <= idx {
		nid := NewStreamID(m.side.Peer(), d, m.nextRemote[d])
		m.nextRemote[d]++
		m.newStream(nid)
		m.emit(Event{Kind: EventOpened, ID: nid})
	}
	return m.streams[id], nil
}

// lookupRecv is lookup for frames only valid on streams we receive on.
func (m *Manager) lookupRecv(id StreamID, frame string) (*stream, error) {
	if !id.CanRecv(m.side) {
		return nil, protoErr(StreamStateError, "%s for send-only stream %d", frame, uint64(id))
	}
	return m.lookup(id)
}

// lookupSend is lookup for frames only valid on streams we send on.
func (m *Manager) lookupSend(id StreamID, frame string) (*stream, error) {
	if !id.CanSend(m.side) {
		return nil, protoErr(StreamStateError, "%s for receive-only stream %d", frame, uint64(id))
	}
	return m.lookup(id)
}

// HandleStream processes a STREAM frame's content. data is copied; the
// caller may reuse it afterwards.
func (m *Manager) HandleStream(id StreamID, offset uint64, data []byte, fin bool) error {
	s, err := m.lookupRecv(id, "STREAM")
	if s == nil || err != nil {
		return err
	}
	r := s.recv
	// Connection flow control counts the highest offset per stream,
	// including data that arrived out of order (RFC 9000 §4.1).
	if end := offset + uint64(len(data)); end > r.highest && end >= offset {
		if !m.connRecv.allows(m.connHighest + (end - r.highest)) {
			return protoErr(FlowControlError, "connection data exceeds limit %d", m.connRecv.limit)
		}
	}
	res, err := r.onData(offset, data, fin)
	if err != nil {
		return err
	}
	m.applyRecv(s, res)
	return nil
}

// HandleResetStream processes RESET_STREAM.
func (m *Manager) HandleResetStream(id StreamID, code, finalSize uint64) error {
	s, err := m.lookupRecv(id, "RESET_STREAM")
	if s == nil || err != nil {
		return err
	}
	r := s.recv
	if finalSize > r.highest && finalSize <= MaxVarint {
		if !m.connRecv.allows(m.connHighest + (finalSize - r.highest)) {
			return protoErr(FlowControlError, "connection data exceeds limit %d", m.connRecv.limit)
		}
	}
	res, err := r.onReset(code, finalSize)
	if err != nil {
		return err
	}
	m.applyRecv(s, res)
	return nil
}

func (m *Manager) applyRecv(s *stream, res recvResult) {
	m.connHighest += res.newBytes
	if res.freed > 0 {
		m.connRecv.consumed += res.freed
		m.markConnDirty()
	}
	if res.finalSeen {
		s.needMaxData = false // the peer needs no more credit
	}
	if res.wasReset {
		m.emit(Event{Kind: EventReset, ID: s.id, Code: s.recv.resetCode})
	}
	if res.readable && !s.readSignal {
		s.readSignal = true
		m.emit(Event{Kind: EventReadable, ID: s.id})
	}
	m.maybeForget(s)
}

// HandleStopSending processes STOP_SENDING: the sending half is reset with
// the peer's error code.
func (m *Manager) HandleStopSending(id StreamID, code uint64) error {
	s, err := m.lookupSend(id, "STOP_SENDING")
	if s == nil || err != nil {
		return err
	}
	ss := s.send
	if ss.stopped {
		return nil
	}
	ss.stopped, ss.stopCode = true, code
	if ss.reset(code) {
		s.needReset = true
		m.queueCtrl(s)
	}
	m.emit(Event{Kind: EventStopped, ID: s.id, Code: code})
	return nil
}

// HandleMaxData processes MAX_DATA.
func (m *Manager) HandleMaxData(limit uint64) {
	m.raisePeerMaxData(limit)
}

// HandleMaxStreamData processes MAX_STREAM_DATA.
func (m *Manager) HandleMaxStreamData(id StreamID, limit uint64) error {
	s, err := m.lookupSend(id, "MAX_STREAM_DATA")
	if s == nil || err != nil {
		return err
	}
	m.raiseStreamMaxData(s, limit)
	return nil
}

// HandleMaxStreams processes MAX_STREAMS for dir.
func (m *Manager) HandleMaxStreams(d Dir, limit uint64) error {
	if limit > MaxStreamCount {
		return protoErr(FrameEncodingError, "MAX_STREAMS %d above 2^60", limit)
	}
	m.raiseMaxLocal(d, limit)
	return nil
}

// HandleDataBlocked processes DATA_BLOCKED: if we already granted more
// than the peer saw, our MAX_DATA may have been lost, so send it again.
func (m *Manager) HandleDataBlocked(limit uint64) {
	if m.connRecv.limit > limit {
		m.needMaxData = true
	}
}

// HandleStreamDataBlocked processes STREAM_DATA_BLOCKED, likewise.
func (m *Manager) HandleStreamDataBlocked(id StreamID, limit uint64) error {
	s, err := m.lookupRecv(id, "STREAM_DATA_BLOCKED")
	if s == nil || err != nil {
		return err
	}
	if r := s.recv; r.wantsMaxStreamData() && r.fc.limit > limit {
		s.needMaxData = true
		m.queueCtrl(s)
	}
	return nil
}

// HandleStreamsBlocked processes STREAMS_BLOCKED, likewise.
func (m *Manager) HandleStreamsBlocked(d Dir, limit uint64) error {
	if limit > MaxStreamCount {
		return protoErr(FrameEncodingError, "STREAMS_BLOCKED %d above 2^60", limit)
	}
	if m.maxRemote[d] > limit {
		m.needMaxStreams[d] = true
	}
	return nil
}

func (m *Manager) markConnDirty() { m.connFCDirty = true }

func (m *Manager) markStreamDirty(s *stream) {
	if !s.fcDirty {
		s.fcDirty = true
		m.fcDirty = append(m.fcDirty, s.id)
	}
}
