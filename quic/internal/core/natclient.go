package core

import (
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// natClient is the client's side of NAT traversal: the candidates the
// server announced, and the rounds we start.
type natClient struct {
	remote   []natAddr // the server's candidates
	round    uint64
	reachOut []netip.AddrPort // REACH_OUTs of this round owed
	reached  []reachedAddr    // answered probes whose path could not open yet
}

// reachedAddr is an address that answered a probe, and the probe's round
// trip (0: unknown).
type reachedAddr struct {
	addr Addr
	rtt  time.Duration
}

// maxReached bounds the answered addresses waiting for a path.
const maxReached = 8

// keepReached remembers r until a path to it can open.
func (s *natClient) keepReached(r reachedAddr) {
	for _, k := range s.reached {
		if k.addr == r.addr {
			return
		}
	}
	if len(s.reached) < maxReached {
		s.reached = append(s.reached, r)
	}
}

type natAddr struct {
	seq  uint64
	addr netip.AddrPort
}

// startRound begins the next round, telling the server at most limit of
// our candidates.
func (s *natClient) startRound(local []netip.AddrPort, limit int) {
	s.round++
	s.reachOut = s.reachOut[:0]
	for _, ap := range local {
		if len(s.reachOut) == limit {
			break
		}
		s.reachOut = append(s.reachOut, canonical(ap))
	}
}

// addRemote handles ADD_ADDRESS and reports whether the candidates
// changed.
func (s *natClient) addRemote(seq uint64, ap netip.AddrPort) bool {
	ap = canonical(ap)
	for i := range s.remote {
		if s.remote[i].seq == seq {
			s.remote[i].addr = ap // a reused sequence number replaces the address
			return true
		}
	}
	if len(s.remote) >= NatAddressLimit {
		return false
	}
	s.remote = append(s.remote, natAddr{seq: seq, addr: ap})
	return true
}

// dropReached forgets a withdrawn address.
func (s *natClient) dropReached(a Addr) {
	for i, r := range s.reached {
		if r.addr == a {
			s.reached = append(s.reached[:i], s.reached[i+1:]...)
			return
		}
	}
}

// removeRemote handles REMOVE_ADDRESS and returns the withdrawn address.
func (s *natClient) removeRemote(seq uint64) (netip.AddrPort, bool) {
	for i, a := range s.remote {
		if a.seq == seq {
			s.remote = append(s.remote[:i], s.remote[i+1:]...)
			return a.addr, true
		}
	}
	return netip.AddrPort{}, false
}

func (s *natClient) remoteAddrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.remote))
	for i, a := range s.remote {
		out[i] = a.addr
	}
	return out
}

// appendFrames adds the owed REACH_OUTs; it reports false when the packet
// is full.
func (s *natClient) appendFrames(add func(*wire.Frame) bool, rec *sentRecord) bool {
	for len(s.reachOut) > 0 {
		ap := s.reachOut[0]
		t := wire.FrameReachOutIPv4
		if ap.Addr().Is6() {
			t = wire.FrameReachOutIPv6
		}
		if !add(&wire.Frame{Type: t, Sequence: s.round, Addr: ap}) {
			return false
		}
		r := recNAT(rec)
		r.reach, r.round = append(r.reach, ap), s.round
		s.reachOut = s.reachOut[1:]
	}
	return true
}

func (s *natClient) framesPending() bool { return len(s.reachOut) > 0 }

// onLost owes lost REACH_OUTs again while their round is current.
func (s *natClient) onLost(r *recordNAT) {
	if r.round == s.round {
		s.reachOut = append(s.reachOut, r.reach...)
	}
}
