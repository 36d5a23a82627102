package quic

// AckedBytes reports how many bytes of the stream's sending half, counted
// from its start, the peer's QUIC stack has acknowledged without a gap.
// Data up to that offset reached the peer; data beyond it may not have.
// The value stays readable after the connection closed, so a caller can
// tell which writes to repeat on a new connection.
//
// It returns -1 when the stream is no longer tracked: both halves finished
// (the send half fully acknowledged or reset) and the connection forgot it.
func (s *Stream) AckedBytes() int64 {
	c := s.c
	c.mu.Lock()
	info, ok := c.core.Streams().Info(s.id)
	c.mu.Unlock()
	if !ok || !info.HasSend {
		return -1
	}
	return int64(info.Acked)
}
