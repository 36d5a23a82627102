package endpoint

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Home relay selection, as iroh's net_report: reports of relay latencies
// are kept for reportMaxAge; a relay's latency is its best over them; the
// home relay is the relay with the lowest such latency among those that
// answered in the latest report, and a home relay is only replaced by one
// at most 2/3 of its current latency. We add failover: a home relay whose
// connection stays down for homeFailoverDelay is replaced by the
// next-nearest relay (iroh keeps redialing it).
const (
	reportMaxAge       = 5 * time.Minute
	fullReportInterval = 5 * time.Minute
	// reportIntervalMin..+reportIntervalJitter is iroh's re-STUN period,
	// re-drawn after every report.
	reportIntervalMin    = 20 * time.Second
	reportIntervalJitter = 6 * time.Second
	// homeFailoverDelay is how long the home relay connection may be down
	// before we move home. It lets a relay restart heal in place (a
	// reconnect takes tens of milliseconds) while a dead relay is left
	// well within QUIC's 30 s idle timeout.
	homeFailoverDelay = 1500 * time.Millisecond
)

// relayReport is one net report: the best latency each relay answered
// with (relays that did not answer are absent).
type relayReport struct {
	start   time.Time // when probing began
	full    bool
	latency map[string]time.Duration
}

// homeSelector decides the home relay. It is pure: every method takes the
// time, so tests drive it on a virtual clock.
type homeSelector struct {
	order   []string // the relay map, for stable ties
	history []relayReport
	home    string
	reason  string
	// down holds relays we failed over from, with when: they are no
	// candidate until a report started after that answers for them.
	down map[string]time.Time
	// homeDownSince is when the home relay connection went down; zero
	// while it is up.
	homeDownSince time.Time
}

func newHomeSelector(order []string) *homeSelector {
	return &homeSelector{order: order, down: make(map[string]time.Time)}
}

// Reasons a relay is home, as NetReport.Reason reports them.
const (
	reasonOnly      = "only relay"
	reasonPinned    = "pinned"
	reasonNearest   = "nearest"
	reasonKept      = "kept: the nearest is not 1/3 faster"
	reasonNoAnswers = "kept: no relay answered"
	reasonFailover  = "failover: home relay unreachable"
)

// add records r (at time now) and returns the home relay and whether it
// changed.
func (s *homeSelector) add(r relayReport) (string, bool) {
	s.prune(r.start)
	s.history = append(s.history, r)
	for url, at := range s.down {
		if _, ok := r.latency[url]; ok && !r.start.Before(at) {
			delete(s.down, url)
		}
	}
	best, bestLat := "", time.Duration(0)
	for _, url := range s.order {
		if _, ok := r.latency[url]; !ok || s.isDown(url) {
			continue
		}
		if lat := s.bestRecent(url); best == "" || lat < bestLat {
			best, bestLat = url, lat
		}
	}
	switch {
	case best == "":
		if s.home != "" {
			s.reason = reasonNoAnswers
		}
		return s.home, false
	case best == s.home:
		s.reason = reasonNearest
		return s.home, false
	case s.home != "":
		// iroh: keep the old relay unless the new one's best is at most
		// 2/3 of the old one's latency in this report (integer maths on
		// the duration, as iroh). An old relay that did not answer now
		// has latency 0 and is replaced.
		if cur := r.latency[s.home]; cur != 0 && bestLat > cur/3*2 {
			s.reason = reasonKept
			return s.home, false
		}
	}
	s.home, s.reason = best, reasonNearest
	return s.home, true
}

// prune drops reports older than reportMaxAge.
func (s *homeSelector) prune(now time.Time) {
	s.history = slices.DeleteFunc(s.history, func(r relayReport) bool {
		return now.Sub(r.start) > reportMaxAge
	})
}

// bestRecent is url's lowest latency over the kept reports; 0 if none.
func (s *homeSelector) bestRecent(url string) time.Duration {
	var best time.Duration
	for _, r := range s.history {
		if lat, ok := r.latency[url]; ok && (best == 0 || lat < best) {
			best = lat
		}
	}
	return best
}

func (s *homeSelector) isDown(url string) bool {
	_, ok := s.down[url]
	return ok
}

// homeLink records the home relay connection's state at now.
func (s *homeSelector) homeLink(now time.Time, up bool) {
	switch {
	case up:
		s.homeDownSince = time.Time{}
	case s.homeDownSince.IsZero():
		s.homeDownSince = now
	}
}

// failoverDue reports when the home relay has been down long enough to
// move; when is the time to look again if not yet.
func (s *homeSelector) failoverDue(now time.Time) (due bool, when time.Time) {
	if s.home == "" || s.homeDownSince.IsZero() {
		return false, time.Time{}
	}
	at := s.homeDownSince.Add(homeFailoverDelay)
	return !now.Before(at), at
}

// failover moves home to the next-nearest relay that answered within
// reportMaxAge and is not down. ok is false when there is none; home is
// then kept (and still redialed).
func (s *homeSelector) failover(now time.Time) (string, bool) {
	if s.home == "" {
		return "", false
	}
	s.prune(now)
	s.down[s.home] = now
	best, bestLat := "", time.Duration(0)
	for _, url := range s.order {
		lat := s.bestRecent(url)
		if lat == 0 || s.isDown(url) {
			continue
		}
		if best == "" || lat < bestLat {
			best, bestLat = url, lat
		}
	}
	if best == "" {
		return s.home, false
	}
	s.home, s.reason, s.homeDownSince = best, reasonFailover, time.Time{}
	return best, true
}

// fullReportDue: iroh runs a full report (every probe kind, every relay)
// first, after a major network change, and every fullReportInterval.
func fullReportDue(now, lastFull time.Time, forced bool) bool {
	return forced || lastFull.IsZero() || now.Sub(lastFull) > fullReportInterval
}

// nextReportDelay is a random 20–26 s, iroh's re-STUN period.
func nextReportDelay(r *rand.Rand) time.Duration {
	return reportIntervalMin + time.Duration(r.Int64N(int64(reportIntervalJitter)+1))
}
