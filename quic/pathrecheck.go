package quic

import "time"

// RecheckPath sends a PATH_CHALLENGE on a validated path, which stays
// usable meanwhile; the peer answers on that path. Call it when the link
// under a path comes back after an outage (a relay connection that
// reconnected): our acknowledgement of the answer lets the peer resend at
// once what it lost on the path meanwhile, instead of at its next probe
// timeout, which a long outage has backed off to seconds. A path still
// being validated is left alone; ErrUnknownPath names no open path.
func (c *Conn) RecheckPath(id PathID) error {
	c.mu.Lock()
	err := c.core.RecheckPath(time.Now(), id)
	c.mu.Unlock()
	c.wake()
	return err
}

// PeerRechecks counts the PATH_CHALLENGEs the peer sent on our validated
// direct paths (each is also a path event, see PathsChanged). The peer
// sends one when a path's packets come from a new address of ours: a NAT
// that rebound (its mappings flushed) likely cut our other flows through
// it as well, such as a relay connection, with no sign on our side.
func (c *Conn) PeerRechecks() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.PeerRechecks()
}
