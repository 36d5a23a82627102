package endpoint

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// NetReport is the endpoint's view of its relays: the home relay, why it
// is home, and the latest latency of every relay in the map.
type NetReport struct {
	// Home is the home relay URL, "" while there is none (no relay map,
	// or no relay has answered yet).
	Home string
	// Reason says why Home is home: "pinned" (Options.RelayURL), "only
	// relay", "nearest", "kept: …" (iroh's hysteresis, or no answers),
	// "failover: …" (the home relay connection stayed down).
	Reason string
	// HomeSince is when Home became home.
	HomeSince time.Time
	// Relays are the relay map's relays in order, with measurements.
	Relays []RelayLatency
	// At is when the last report finished (zero before the first);
	// Full whether it probed every relay; Reports counts reports.
	At      time.Time
	Full    bool
	Reports int
}

// RelayLatency is one relay's measurements.
type RelayLatency struct {
	URL string
	// Latency is this relay's best round trip in the last report that
	// probed it (QAD handshake RTT or HTTPS /ping time to the headers);
	// 0: no answer.
	Latency time.Duration
	// Best is the lowest latency over the last 5 minutes, what home
	// selection compares; 0: none.
	Best time.Duration
	// Probe says which probe gave Latency: "qad" or "https".
	Probe string
	// Down: we failed over from this relay and have not reached it since.
	Down bool
	// Err is why the relay did not answer in the last report.
	Err error
}

// HomeLatency is the home relay's entry in r, if any.
func (r NetReport) HomeLatency() (RelayLatency, bool) {
	i := slices.IndexFunc(r.Relays, func(l RelayLatency) bool { return l.URL == r.Home })
	if i < 0 {
		return RelayLatency{}, false
	}
	return r.Relays[i], true
}

// probeKind is what a probe measured.
type probeKind int

const (
	probeQAD4 probeKind = iota
	probeQAD6
	probeHTTPS
)

func (k probeKind) String() string {
	if k == probeHTTPS {
		return "https"
	}
	return "qad"
}

// probeResult is one probe's outcome.
type probeResult struct {
	url     string
	kind    probeKind
	latency time.Duration
	err     error
}

// reportCounts tallies, per probe kind, the relays that answered.
type reportCounts struct {
	v4, v6, https int
}

func (c *reportCounts) add(k probeKind) {
	switch k {
	case probeQAD4:
		c.v4++
	case probeQAD6:
		c.v6++
	case probeHTTPS:
		c.https++
	}
}

// enoughReports is iroh's rule for ending a report early: every relay
// answered an HTTPS probe, or QAD answered from enough relays: in a full
// report two of a family (dual-stack: two of one and one of the other),
// in an incremental one one of each family we have. qadRelays caps what
// can be asked (a one-relay map cannot give two answers).
func enoughReports(full, have4, have6 bool, qadRelays, relays int, c reportCounts) bool {
	if relays > 0 && c.https >= relays {
		return true
	}
	if qadRelays == 0 || !have4 && !have6 {
		return false
	}
	need := 1
	if full {
		need = min(2, qadRelays)
	}
	switch {
	case have4 && have6 && full:
		return c.v4 >= need && c.v6 >= 1 || c.v4 >= 1 && c.v6 >= need
	case have4 && have6:
		return c.v4 >= 1 && c.v6 >= 1
	case have4:
		return c.v4 >= need
	default:
		return c.v6 >= need
	}
}

// summary is a one-line account of r for errors and logs.
func (r NetReport) summary() string {
	if r.Reports == 0 {
		return "no relay report yet"
	}
	var parts []string
	for _, rl := range r.Relays {
		switch {
		case rl.Latency > 0:
			parts = append(parts, fmt.Sprintf("%s %v", rl.URL, rl.Latency.Round(time.Millisecond)))
		case rl.Err != nil:
			parts = append(parts, fmt.Sprintf("%s: %v", rl.URL, rl.Err))
		default:
			parts = append(parts, rl.URL+": no answer")
		}
	}
	return "relays: " + strings.Join(parts, "; ")
}
