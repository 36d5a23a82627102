package endpoint

import (
	"math/rand/v2"
	"testing"
	"time"
)

const (
	relayA = "https://a.example./"
	relayB = "https://b.example./"
	relayC = "https://c.example./"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func rep(at time.Duration, lat map[string]time.Duration) relayReport {
	return relayReport{start: t0.Add(at), latency: lat}
}

// TestHomeSelectorNearestAndHysteresis walks iroh's rules on a virtual
// clock: the nearest relay becomes home; another replaces it only when at
// most 2/3 of home's current latency; best latencies are kept for 5
// minutes; a home that stops answering is replaced; no answers keep home.
func TestHomeSelectorNearestAndHysteresis(t *testing.T) {
	s := newHomeSelector([]string{relayA, relayB, relayC})
	steps := []struct {
		name    string
		at      time.Duration
		lat     map[string]time.Duration
		home    string
		changed bool
		reason  string
	}{
		{"first report: nearest", 0, map[string]time.Duration{relayA: ms(60), relayB: ms(20), relayC: ms(90)}, relayB, true, reasonNearest},
		{"home still nearest", 25 * time.Second, map[string]time.Duration{relayA: ms(50), relayB: ms(22)}, relayB, false, reasonNearest},
		// A's best is 16 ms, B's 20 ms; 16 ms is exactly 2/3 of B's
		// current 24 ms, which is enough to switch.
		{"exactly 2/3 switches", 50 * time.Second, map[string]time.Duration{relayA: ms(16), relayB: ms(24)}, relayA, true, reasonNearest},
		// A answers 30 ms now, but its best over the kept reports (16 ms)
		// is still the lowest.
		{"best over history", 75 * time.Second, map[string]time.Duration{relayA: ms(30), relayB: ms(21)}, relayA, false, reasonNearest},
		// C answers 12 ms, A's current is 17 ms: 12 > 17/3*2 (11.33 ms),
		// kept by hysteresis.
		{"hysteresis keeps home", 100 * time.Second, map[string]time.Duration{relayA: ms(17), relayC: ms(12)}, relayA, false, reasonKept},
		{"no answers keep home", 125 * time.Second, map[string]time.Duration{}, relayA, false, reasonNoAnswers},
		// Home did not answer: its current latency counts as 0, so the
		// nearest that answered (C, best 12 ms) takes over.
		{"silent home replaced", 150 * time.Second, map[string]time.Duration{relayB: ms(25), relayC: ms(40)}, relayC, true, reasonNearest},
		// Minutes later the earlier reports have aged out: B answers
		// 20 ms, at most 2/3 of C's 45 ms.
		{"history ages out", 8 * time.Minute, map[string]time.Duration{relayB: ms(20), relayC: ms(45)}, relayB, true, reasonNearest},
	}
	for _, st := range steps {
		home, changed := s.add(rep(st.at, st.lat))
		if home != st.home || changed != st.changed || s.reason != st.reason {
			t.Fatalf("%s: home %s changed %v reason %q, want %s %v %q", st.name, home, changed, s.reason, st.home, st.changed, st.reason)
		}
	}
}

// TestHomeSelectorFailover: the home relay's connection down for less
// than homeFailoverDelay keeps it; longer moves home to the next-nearest
// relay; the failed relay is no candidate until a report started after
// the failover answers for it.
func TestHomeSelectorFailover(t *testing.T) {
	s := newHomeSelector([]string{relayA, relayB, relayC})
	s.add(rep(0, map[string]time.Duration{relayA: ms(10), relayB: ms(30), relayC: ms(20)}))
	if s.home != relayA {
		t.Fatalf("home %s", s.home)
	}
	down := t0.Add(time.Minute)
	s.homeLink(down, false)
	if due, when := s.failoverDue(down.Add(homeFailoverDelay - time.Millisecond)); due || !when.Equal(down.Add(homeFailoverDelay)) {
		t.Fatalf("due %v at %v before the delay", due, when)
	}
	// A blip that heals does not move home.
	s.homeLink(down.Add(time.Second), true)
	if due, _ := s.failoverDue(down.Add(time.Hour)); due {
		t.Fatal("failover due after the link came back")
	}
	s.homeLink(down.Add(2*time.Second), false)
	s.homeLink(down.Add(2500*time.Millisecond), false) // a second failed attempt does not restart the clock
	at := down.Add(2*time.Second + homeFailoverDelay)
	if due, _ := s.failoverDue(at); !due {
		t.Fatal("failover not due")
	}
	home, ok := s.failover(at)
	if !ok || home != relayC || s.reason != reasonFailover {
		t.Fatalf("failover to %s (%v, %q), want the next-nearest %s", home, ok, s.reason, relayC)
	}
	// A report from before the failover still listing A does not bring
	// it back; C stays (A is down, B is slower).
	if home, changed := s.add(relayReport{start: at.Add(-time.Second), latency: map[string]time.Duration{relayA: ms(9), relayC: ms(20)}}); changed || home != relayC {
		t.Fatalf("stale report moved home to %s", home)
	}
	// A later report where A answers again: A is back, and 9 ms is at
	// most 2/3 of C's 20 ms, so home returns to A.
	if home, changed := s.add(relayReport{start: at.Add(20 * time.Second), latency: map[string]time.Duration{relayA: ms(9), relayC: ms(20)}}); !changed || home != relayA {
		t.Fatalf("home %s after A answered again", home)
	}
	// Everything else down: failover finds nothing and keeps home.
	s.down[relayB], s.down[relayC] = at, at
	if home, ok := s.failover(at.Add(time.Minute)); ok || home != relayA {
		t.Fatalf("failover with nowhere to go: %s %v", home, ok)
	}
	// Relays that never answered are no failover target.
	s2 := newHomeSelector([]string{relayA, relayB})
	s2.add(rep(0, map[string]time.Duration{relayA: ms(10)}))
	if _, ok := s2.failover(t0.Add(time.Second)); ok {
		t.Fatal("failed over to a relay that never answered")
	}
}

func TestReportSchedule(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if d := nextReportDelay(r); d < 20*time.Second || d > 26*time.Second {
			t.Fatalf("report delay %v outside 20–26 s", d)
		}
	}
	last := t0
	for _, c := range []struct {
		now    time.Time
		last   time.Time
		forced bool
		want   bool
	}{
		{t0, time.Time{}, false, true},
		{t0.Add(time.Minute), last, false, false},
		{t0.Add(time.Minute), last, true, true},
		{t0.Add(5 * time.Minute), last, false, false},
		{t0.Add(5*time.Minute + time.Second), last, false, true},
	} {
		if got := fullReportDue(c.now, c.last, c.forced); got != c.want {
			t.Fatalf("fullReportDue(%v, %v, %v) = %v", c.now.Sub(t0), c.last, c.forced, got)
		}
	}
}

func TestEnoughReports(t *testing.T) {
	for _, c := range []struct {
		name               string
		full, have4, have6 bool
		qadRelays, relays  int
		counts             reportCounts
		want               bool
	}{
		{"all https answered", true, true, false, 0, 3, reportCounts{https: 3}, true},
		{"https missing one", true, true, false, 0, 3, reportCounts{https: 2}, false},
		{"full v4: two", true, true, false, 4, 4, reportCounts{v4: 2}, true},
		{"full v4: one", true, true, false, 4, 4, reportCounts{v4: 1}, false},
		{"full v4, one QAD relay", true, true, false, 1, 4, reportCounts{v4: 1}, true},
		{"full dual: 2+1", true, true, true, 4, 4, reportCounts{v4: 2, v6: 1}, true},
		{"full dual: 1+2", true, true, true, 4, 4, reportCounts{v4: 1, v6: 2}, true},
		{"full dual: 2+0", true, true, true, 4, 4, reportCounts{v4: 2}, false},
		{"full v6 only", true, false, true, 4, 4, reportCounts{v6: 2}, true},
		{"incremental v4", false, true, false, 1, 0, reportCounts{v4: 1}, true},
		{"incremental dual needs both", false, true, true, 1, 0, reportCounts{v4: 1}, false},
		{"no QAD, no https", true, true, false, 0, 0, reportCounts{}, false},
	} {
		if got := enoughReports(c.full, c.have4, c.have6, c.qadRelays, c.relays, c.counts); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}
