package soak

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// stamp is an event's payload: when it was dispatched.
type stamp struct {
	UnixNano int64 `json:"t"`
}

func sendStamp(t time.Time) json.RawMessage {
	b, _ := json.Marshal(stamp{t.UnixNano()}) // an int64 field cannot fail
	return b
}

// latencies collects send-to-echo times.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// addSince books the time since payload's stamp; unstamped payloads are
// ignored (the ledger counts them as stray anyway).
func (l *latencies) addSince(payload []byte) {
	var s stamp
	if json.Unmarshal(payload, &s) != nil || s.UnixNano == 0 {
		return
	}
	d := time.Since(time.Unix(0, s.UnixNano))
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// LatencySummary is a distribution of send-to-echo times.
type LatencySummary struct {
	N             int
	P50, P99, Max time.Duration
}

func (s LatencySummary) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", s.N, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.Max.Round(time.Microsecond))
}

func (l *latencies) summary() LatencySummary {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	if len(d) == 0 {
		return LatencySummary{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return LatencySummary{N: len(d), P50: at(0.5), P99: at(0.99), Max: d[len(d)-1]}
}
