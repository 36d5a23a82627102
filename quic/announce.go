package quic

// Announce makes the peer see this locally opened stream now, before any
// data is written: QUIC opens a stream at the peer only with its first
// frame, and a peer waiting in AcceptStream (iroh's accept_bi too) sees
// nothing until then. A stream that only reads (a listener) needs this. It
// does nothing once data or a FIN was sent.
func (s *Stream) Announce() error {
	c := s.c
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	err := c.core.Streams().Announce(s.id)
	if err != nil {
		err = s.writeFailedLocked(err)
	}
	c.mu.Unlock()
	c.wake()
	return err
}
