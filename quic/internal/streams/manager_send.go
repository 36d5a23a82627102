package streams

import "time"

// This file is the core's sending interface: it polls control frames and
// STREAM frames for each packet and reports back which were acknowledged
// or lost.

// HasPending reports whether NextControl or NextStreamFrame may have
// something to send (it can be a false positive, never a false negative).
func (m *Manager) HasPending() bool {
	return m.sendQueue.len() > 0 || m.ctrlQueue.len() > 0 || len(m.fcDirty) > 0 ||
		m.connFCDirty || m.needMaxData || m.needDataBlock ||
		m.needMaxStreams != [2]bool{} || m.blockedStreams != [2]bool{}
}

// NextControl returns the next flow-control or stream-control frame that
// fits in maxSize bytes. now drives receive-window auto-tuning.
func (m *Manager) NextControl(now time.Time, maxSize int) (Frame, bool) {
	m.flushWindows(now)
	if f, ok := m.nextConnControl(maxSize); ok || f.Kind != 0 {
		return f, ok
	}
	for m.ctrlQueue.len() > 0 {
		s := m.streams[m.ctrlQueue.front()]
		if s == nil {
			m.ctrlQueue.pop()
			continue
		}
		f := m.streamControl(s)
		if f.Kind == 0 {
			s.ctrlQueued = false
			m.ctrlQueue.pop()
			continue
		}
		if f.WireSize() > maxSize {
			return Frame{}, false
		}
		switch f.Kind {
		case FrameResetStream:
			s.needReset = false
		case FrameStopSending:
			s.needStop = false
		case FrameMaxStreamData:
			s.needMaxData = false
			s.recv.fc.sent = max(s.recv.fc.sent, f.Value)
		case FrameStreamDataBlocked:
			s.needBlocked = false
		}
		return f, true
	}
	return Frame{}, false
}

// flushWindows turns reads since the last call into window updates.
func (m *Manager) flushWindows(now time.Time) {
	for _, id := range m.fcDirty {
		s := m.streams[id]
		if s == nil {
			continue
		}
		s.fcDirty = false
		r := s.recv
		if !r.wantsMaxStreamData() || !r.fc.wantsUpdate() {
			continue
		}
		r.fc.update(now, m.rtt)
		// Keep the connection window ahead of any one stream's, as
		// quic-go does, so one fast stream is not capped by the connection.
		m.connRecv.ensureWindow(r.fc.window * 3 / 2)
		s.needMaxData = true
		m.queueCtrl(s)
	}
	m.fcDirty = m.fcDirty[:0]
	if m.connFCDirty {
		m.connFCDirty = false
		if m.connRecv.wantsUpdate() {
			m.connRecv.update(now, m.rtt)
			m.needMaxData = true
		}
	}
}

// nextConnControl returns a connection-level frame. A zero Kind with ok
// false means none is owed; a non-zero Kind with ok false means one is owed
// but does not fit.
func (m *Manager) nextConnControl(maxSize int) (Frame, bool) {
	var f Frame
	switch {
	case m.needMaxData:
		f = Frame{Kind: FrameMaxData, Value: m.connRecv.limit}
	case m.needMaxStreams[Bidi]:
		f = Frame{Kind: FrameMaxStreams, Dir: Bidi, Value: m.maxRemote[Bidi]}
	case m.needMaxStreams[Uni]:
		f = Frame{Kind: FrameMaxStreams, Dir: Uni, Value: m.maxRemote[Uni]}
	case m.needDataBlock:
		f = Frame{Kind: FrameDataBlocked, Value: m.dataBlockedAt}
	case m.blockedStreams[Bidi]:
		f = Frame{Kind: FrameStreamsBlocked, Dir: Bidi, Value: m.blockedSentAt[Bidi]}
	case m.blockedStreams[Uni]:
		f = Frame{Kind: FrameStreamsBlocked, Dir: Uni, Value: m.blockedSentAt[Uni]}
	default:
		return Frame{}, false
	}
	if f.WireSize() > maxSize {
		return f, false
	}
	switch f.Kind {
	case FrameMaxData:
		m.needMaxData = false
		m.connRecv.sent = max(m.connRecv.sent, f.Value)
	case FrameMaxStreams:
		m.needMaxStreams[f.Dir] = false
		m.sentMaxRemote[f.Dir] = max(m.sentMaxRemote[f.Dir], f.Value)
	case FrameDataBlocked:
		m.needDataBlock = false
		if m.peerMaxData > f.Value { // unblocked meanwhile
			return m.nextConnControl(maxSize)
		}
	case FrameStreamsBlocked:
		m.blockedStreams[f.Dir] = false
		if m.maxLocal[f.Dir] > f.Value {
			return m.nextConnControl(maxSize)
		}
	}
	return f, true
}

// streamControl picks the first control frame s still owes, dropping
// flags that became moot; a zero Frame means none.
func (m *Manager) streamControl(s *stream) Frame {
	if s.needReset {
		if s.send != nil && s.send.state == SendResetSent {
			return Frame{Kind: FrameResetStream, ID: s.id, Code: s.send.resetCode, Value: s.send.finalSize}
		}
		s.needReset = false
	}
	if s.needStop {
		if s.recv != nil && s.recv.wantsStopSending() {
			return Frame{Kind: FrameStopSending, ID: s.id, Code: s.recv.stopCode}
		}
		s.needStop = false
	}
	if s.needMaxData {
		if s.recv != nil && s.recv.wantsMaxStreamData() {
			return Frame{Kind: FrameMaxStreamData, ID: s.id, Value: s.recv.fc.limit}
		}
		s.needMaxData = false
	}
	if s.needBlocked {
		if ss := s.send; ss != nil && ss.streamBlocked() && ss.blockedAt == ss.maxData {
			return Frame{Kind: FrameStreamDataBlocked, ID: s.id, Value: ss.maxData}
		}
		s.needBlocked = false
	}
	return Frame{}
}

// NextStreamFrame returns the next STREAM frame of at most maxSize bytes
// (header included, see Frame.WireSize), taking streams in round-robin
// order so that all active streams share the connection fairly. The data
// slice aliases the send buffer: copy it before the next call into the
// Manager.
func (m *Manager) NextStreamFrame(maxSize int) (Frame, []byte, bool) {
	for n := m.sendQueue.len(); n > 0; n-- {
		s := m.streams[m.sendQueue.pop()]
		if s == nil {
			continue
		}
		s.sendQueued = false
		f, data, newBytes, ok := s.send.next(maxSize, m.connCredit())
		m.connSent += newBytes
		m.queueSend(s)
		if ok {
			return f, data, true
		}
	}
	return Frame{}, nil, false
}

// OnAcked tells the Manager that a packet carrying f was acknowledged.
func (m *Manager) OnAcked(f Frame) {
	s := m.streams[f.ID]
	switch f.Kind {
	case FrameStream:
		if s == nil || s.send == nil {
			return
		}
		ss := s.send
		wasDone := ss.state == SendDataRecvd
		if ss.onAcked(f.Offset, f.Length, f.Fin) && ss.wantWritable {
			ss.wantWritable = false
			m.emit(Event{Kind: EventWritable, ID: s.id})
		}
		if !wasDone && ss.state == SendDataRecvd {
			m.emit(Event{Kind: EventFinished, ID: s.id})
		}
		m.maybeForget(s)
	case FrameResetStream:
		if s == nil || s.send == nil {
			return
		}
		s.send.onResetAcked()
		m.maybeForget(s)
	}
}

// OnLost tells the Manager that a packet carrying f was declared lost. Lost
// data is resent before new data; control frames are resent if still
// current.
func (m *Manager) OnLost(f Frame) {
	s := m.streams[f.ID]
	switch f.Kind {
	case FrameStream:
		if s != nil && s.send != nil {
			s.send.onLost(f.Offset, f.Length, f.Fin)
			m.queueSend(s)
		}
	case FrameResetStream:
		if s != nil && s.send != nil && s.send.state == SendResetSent {
			s.needReset = true
			m.queueCtrl(s)
		}
	case FrameStopSending:
		if s != nil && s.recv != nil && s.recv.wantsStopSending() {
			s.needStop = true
			m.queueCtrl(s)
		}
	case FrameMaxStreamData:
		if s != nil && s.recv != nil && s.recv.wantsMaxStreamData() && f.Value >= s.recv.fc.sent {
			s.needMaxData = true
			m.queueCtrl(s)
		}
	case FrameStreamDataBlocked:
		if s != nil && s.send != nil && s.send.streamBlocked() && s.send.maxData == f.Value {
			s.needBlocked = true
			m.queueCtrl(s)
		}
	case FrameMaxData:
		if f.Value >= m.connRecv.sent {
			m.needMaxData = true
		}
	case FrameMaxStreams:
		if f.Value >= m.sentMaxRemote[f.Dir] {
			m.needMaxStreams[f.Dir] = true
		}
	case FrameDataBlocked:
		if m.peerMaxData == f.Value && m.connSent >= m.peerMaxData {
			m.needDataBlock = true
		}
	case FrameStreamsBlocked:
		if m.maxLocal[f.Dir] == f.Value && m.nextLocal[f.Dir] >= f.Value {
			m.blockedStreams[f.Dir] = true
		}
	}
}
