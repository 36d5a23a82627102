package core

import "time"

// RecheckPath sends a PATH_CHALLENGE on a path that is already
// validated; the path stays usable meanwhile, and an unanswered challenge
// only ends the check. The peer must answer on that very path.
//
// After the link under a path was down for a while (a relay connection
// that had to reconnect), whatever the peer sent on the path meanwhile is
// lost, and the peer finds out only at its next probe timeout there,
// backed off by then (seconds after a long outage). The answer is a
// packet the peer sends on the path now; our ACK of it lets the peer's
// loss detection declare its older packets lost and send their data again
// at once. A path whose validation is under way is left alone.
func (c *Conn) RecheckPath(now time.Time, id PathID) error {
	if err := c.usable(); err != nil {
		return err
	}
	if c.mp == nil {
		return ErrMultipathNotNegotiated
	}
	p := c.paths.byID(uint64(id))
	if p == nil || p.mp.abandoned {
		return ErrUnknownPath
	}
	if !p.mp.usable || !p.mp.validateBy.IsZero() {
		return nil
	}
	p.mp.startChallenge(c.rand, now, p.rec.ProbeTimeout())
	return nil
}

// notePeerRecheck counts a PATH_CHALLENGE the peer sent on p itself when
// p is a validated direct path: the peer checks p again, which it does
// when our packets on p came from a new address (our NAT rebound or our
// network changed under an unchanged socket).
func (c *Conn) notePeerRecheck(p *path) {
	if c.mp == nil || p.mp.abandoned || p.addr.IsRelay() {
		return
	}
	if p.id != 0 && !p.mp.peerValidated {
		// The peer's first challenge on a path opened after the
		// handshake validates our address there (it may come after the
		// path became usable to us, on a probe's answer or in the packet
		// that answered our challenge): not a recheck.
		p.mp.peerValidated = true
		return
	}
	if !p.mp.usable {
		return
	}
	c.mp.peerRechecks++
	c.emit(Event{Kind: EventPeerRecheck, Path: PathID(p.id)})
}

// PeerRechecks counts the PATH_CHALLENGEs the peer sent on our validated
// direct paths. Each means the peer saw one of them come from a new
// address of ours: a NAT that rebound (a flushed mapping) likely cut
// every other flow through it, such as a relay's TCP connection, without
// a sign on our side.
func (c *Conn) PeerRechecks() uint64 {
	if c.mp == nil {
		return 0
	}
	return c.mp.peerRechecks
}
