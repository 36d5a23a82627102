package core

import (
	"net/netip"
	"time"
)

// Limits on hole punching, which makes us send probes to addresses the
// peer names: a client starting rounds in a loop made a server send
// thousands of datagrams a second to third parties.
const (
	// Rounds the client starts: natRoundBurst at once (iroh starts one
	// as each new candidate appears), then on average one per
	// natMinRoundGap; a round past that waits for its probes (the newest
	// waiting round wins).
	natRoundBurst  = 3
	natMinRoundGap = time.Second
	// Probes of all rounds share a bucket: natProbeBurst at once (a round
	// of a few candidates and its quick retries), then one per
	// natProbeEvery.
	natProbeBurst = 64
	natProbeEvery = 50 * time.Millisecond
)

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// natTargetAllowed reports whether we may probe ap. A peer must not turn
// us against unspecified, multicast or broadcast addresses, nor against
// services on our own host: loopback candidates are probed only when the
// peer is on loopback too, or our socket is (Config.NatLoopbackTargets).
func (c *Conn) natTargetAllowed(ap netip.AddrPort) bool {
	a := ap.Addr().Unmap()
	switch {
	case ap.Port() == 0 || a.IsUnspecified() || a.IsMulticast() || a == limitedBroadcast:
		return false
	case a.IsLoopback():
		return c.cfg.NatLoopbackTargets || c.paths.onLoopback()
	}
	return true
}
