package streams

// Announce makes the peer learn of a locally opened stream before any data
// is written: an empty STREAM frame at offset 0 opens it there (RFC 9000
// §3.2), so a peer that waits in accept sees it. A listener that writes
// nothing needs this. It is a no-op once anything was sent on the stream.
func (m *Manager) Announce(id StreamID) error {
	s := m.streams[id]
	if s == nil || s.send == nil {
		return ErrUnknownStream
	}
	ss := s.send
	if ss.sentOff > 0 || ss.finSent || ss.isReset() || ss.state != SendReady {
		return nil
	}
	ss.announce = true
	m.queueSend(s)
	return nil
}

// nextAnnounce returns the owed empty STREAM frame, if any. It needs no
// flow-control credit: it carries no bytes.
func (s *sendStream) nextAnnounce() (Frame, []byte, uint64, bool) {
	if !s.announce || s.sentOff > 0 || s.isReset() {
		return Frame{}, nil, 0, false
	}
	s.announce = false
	return Frame{Kind: FrameStream, ID: s.id}, nil, 0, true
}
