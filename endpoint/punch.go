package endpoint

import (
	"net/netip"
	"slices"
	"time"
)

// Hole-punching schedule (iroh's): a round when the connection starts,
// when candidates change and every upgradeInterval while no fast direct
// path exists. A change that brings no new candidate (some went away)
// waits until roundMinGap after the last round, as iroh. A change with
// new candidates goes at once, as in iroh, but at most roundBurst rounds
// start in any roundBurst × roundMinGapNew: the first candidates of a
// connection (interfaces, then QAD, then a port mapping) each get their
// round at once, while a peer that keeps changing its candidates cannot
// make us start a round (up to 32 × 9 probes) on every poll.
const (
	upgradeInterval = 60 * time.Second
	roundMinGap     = 5 * time.Second
	roundMinGapNew  = 1 * time.Second
	roundBurst      = 3
	// roundErrorRetry spaces attempts that the connection refused (too
	// few addresses, paths not ready), as iroh.
	roundErrorRetry = 100 * time.Millisecond
)

// punchSchedule decides when a client starts a NAT traversal round. It is
// pure: the caller passes the time and the current candidates.
type punchSchedule struct {
	rounds     int
	lastRound  time.Time
	lastRemote []netip.AddrPort // sorted
	lastLocal  []netip.AddrPort // sorted
	recent     []time.Time      // starts of the last roundBurst rounds, oldest first
	failedAt   time.Time        // last attempt the connection refused
	force      bool             // a network change: the next round is due at once
}

// due reports whether a round should start now, given the peer's
// (remote) and our (local) candidates; goodDirect is true when a direct
// path already has a low RTT.
func (s *punchSchedule) due(now time.Time, remote, local []netip.AddrPort, goodDirect bool) bool {
	if !s.failedAt.IsZero() && now.Sub(s.failedAt) < roundErrorRetry {
		return false
	}
	if s.rounds == 0 || s.force {
		return true
	}
	remote, local = sortedAddrs(remote), sortedAddrs(local)
	since := now.Sub(s.lastRound)
	changed := !slices.Equal(remote, s.lastRemote) || !slices.Equal(local, s.lastLocal)
	switch {
	case !changed:
		return since >= upgradeInterval && !goodDirect
	case isSubset(remote, s.lastRemote) && isSubset(local, s.lastLocal):
		return since >= roundMinGap
	default:
		return len(s.recent) < roundBurst || now.Sub(s.recent[0]) >= roundBurst*roundMinGapNew
	}
}

// started records a round begun at now with these candidates.
func (s *punchSchedule) started(now time.Time, remote, local []netip.AddrPort) {
	s.rounds++
	s.lastRound, s.failedAt, s.force = now, time.Time{}, false
	if len(s.recent) == roundBurst {
		s.recent = s.recent[1:]
	}
	s.recent = append(s.recent, now)
	s.lastRemote, s.lastLocal = sortedAddrs(remote), sortedAddrs(local)
}

// forceNext makes the next round due at once (after a network change,
// whatever the candidates look like yet).
func (s *punchSchedule) forceNext() { s.force = true }

// failed records an attempt the connection refused at now.
func (s *punchSchedule) failed(now time.Time) { s.failedAt = now }

func sortedAddrs(a []netip.AddrPort) []netip.AddrPort {
	a = slices.Clone(a)
	slices.SortFunc(a, netip.AddrPort.Compare)
	return slices.Compact(a)
}

// isSubset: every element of a (sorted) is in b (sorted).
func isSubset(a, b []netip.AddrPort) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearchFunc(b, x, netip.AddrPort.Compare); !ok {
			return false
		}
	}
	return true
}
