package endpoint

import (
	"net/netip"
	"testing"
	"time"
)

// TestPunchScheduleRateLimit: a peer whose candidates change on every
// 50 ms poll gets roundBurst rounds at once, then on average one per
// roundMinGapNew; changes with no
// new candidate wait roundMinGap; no change waits upgradeInterval (and
// none with a good direct path); refused attempts retry after
// roundErrorRetry.
func TestPunchScheduleRateLimit(t *testing.T) {
	local := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.2:7000")}
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr("198.51.100.9"), uint16(1000+i))
	}
	var s punchSchedule
	now := t0
	if !s.due(now, nil, local, false) {
		t.Fatal("first round not due")
	}
	s.started(now, nil, local)

	// A hostile hub: a new candidate every 50 ms for 10 s.
	rounds := 0
	for i := 1; i <= 200; i++ {
		now = t0.Add(time.Duration(i) * 50 * time.Millisecond)
		remote := []netip.AddrPort{addr(i)}
		if s.due(now, remote, local, false) {
			s.started(now, remote, local)
			rounds++
		}
	}
	// The first round, then bursts of roundBurst every roundBurst s.
	if rounds != 11 {
		t.Fatalf("%d rounds in 10 s of changing candidates, want 11 (%d per %v)", rounds, roundBurst, roundBurst*roundMinGapNew)
	}

	// Only removals: the remaining set is a subset of the last round's.
	s = punchSchedule{}
	both := []netip.AddrPort{addr(1), addr(2)}
	s.started(t0, both, local)
	one := both[:1]
	if s.due(t0.Add(roundMinGap-time.Millisecond), one, local, false) {
		t.Fatal("removal-only change due before roundMinGap")
	}
	if !s.due(t0.Add(roundMinGap), one, local, false) {
		t.Fatal("removal-only change not due at roundMinGap")
	}
	// A new local candidate (our QAD address) counts as new.
	withPub := append(local[:1:1], netip.MustParseAddrPort("203.0.113.5:7000"))
	if !s.due(t0.Add(time.Millisecond), both, withPub, false) {
		t.Fatal("new local candidate not due at once")
	}
	// Unchanged: the periodic upgrade check, skipped with a good path.
	if s.due(t0.Add(upgradeInterval-time.Millisecond), both, local, false) {
		t.Fatal("unchanged candidates due before upgradeInterval")
	}
	if !s.due(t0.Add(upgradeInterval), both, local, false) {
		t.Fatal("periodic round not due")
	}
	if s.due(t0.Add(upgradeInterval), both, local, true) {
		t.Fatal("periodic round due with a good direct path")
	}
	// Order does not matter.
	if s.due(t0.Add(roundMinGap), []netip.AddrPort{addr(2), addr(1)}, local, false) {
		t.Fatal("reordered candidates counted as a change")
	}

	// Refused attempts.
	s = punchSchedule{}
	s.failed(t0)
	if s.due(t0.Add(roundErrorRetry-time.Millisecond), nil, local, false) {
		t.Fatal("retry before roundErrorRetry")
	}
	if !s.due(t0.Add(roundErrorRetry), nil, local, false) {
		t.Fatal("no retry after roundErrorRetry")
	}
}
