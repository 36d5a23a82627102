package soak

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Ledger books every event of a fleet: what each spoke sent, the echoes it
// got back and the fan-out copies every other spoke received. Event IDs
// are "<sender>.<seq>" with seq counting from 1 per sender; the hub keeps
// one ordered stream per spoke, so each receiver must see each sender's
// events exactly once and in order. Safe for concurrent use.
type Ledger struct {
	spokes []*account
	// missing counts the echoes and copies of booked events not received
	// yet; settled is poked (cap 1) whenever it falls to zero.
	missing atomic.Int64
	settled chan struct{}
}

// account is one spoke's side of the ledger.
type account struct {
	mu     sync.Mutex
	sent   int     // events dispatched, seq 1..sent
	echoes []uint8 // echo count by seq-1
	// lastFrom is the last seq received from each sender, so a repeat or
	// a skipped event shows up at once.
	lastFrom   []int32
	fanout     int64
	dupFanout  int64
	gapFanout  int64
	dupEcho    int64
	strayEcho  int64 // echoes of events this spoke never sent
	strayFrame int64 // frames whose id names no spoke
}

// NewLedger returns a ledger for n spokes.
func NewLedger(n int) *Ledger {
	l := &Ledger{spokes: make([]*account, n), settled: make(chan struct{}, 1)}
	for i := range l.spokes {
		l.spokes[i] = &account{lastFrom: make([]int32, n)}
	}
	return l
}

// EventID names event seq of spoke sender.
func EventID(sender, seq int) string { return strconv.Itoa(sender) + "." + strconv.Itoa(seq) }

// ParseEventID splits an EventID into sender and seq; ok is false for
// anything else.
func ParseEventID(id string) (sender, seq int, ok bool) {
	a, b, found := strings.Cut(id, ".")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.Atoi(a)
	q, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || s < 0 || q < 1 {
		return 0, 0, false
	}
	return s, q, true
}

// NextSeq books one more event for spoke i and returns its seq.
func (l *Ledger) NextSeq(i int) int {
	a := l.spokes[i]
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent++
	a.echoes = append(a.echoes, 0)
	l.missing.Add(int64(len(l.spokes))) // an echo and a copy for every other spoke
	return a.sent
}

// Settled returns a channel that receives when nothing booked is missing
// any more (Tally then tells whether all came exactly once). A receive may
// be stale: check the Tally, then wait again.
func (l *Ledger) Settled() <-chan struct{} { return l.settled }

// received books n echoes or copies (negative: events taken back).
func (l *Ledger) received(n int64) {
	if l.missing.Add(-n) == 0 {
		select {
		case l.settled <- struct{}{}:
		default:
		}
	}
}

// Unsend takes back the last event of spoke i (its Dispatch failed).
func (l *Ledger) Unsend(i, seq int) {
	a := l.spokes[i]
	a.mu.Lock()
	defer a.mu.Unlock()
	if seq == a.sent {
		a.sent--
		a.echoes = a.echoes[:a.sent]
		l.received(int64(len(l.spokes)))
	}
}

// Echo books spoke i receiving the echo of event id.
func (l *Ledger) Echo(i int, id string) {
	a := l.spokes[i]
	sender, seq, ok := ParseEventID(id)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !ok || sender != i || seq > a.sent:
		a.strayEcho++
	case a.echoes[seq-1] > 0:
		a.dupEcho++
	default:
		a.echoes[seq-1] = 1
		l.received(1)
	}
}

// Fanout books spoke i receiving another spoke's event id.
func (l *Ledger) Fanout(i int, id string) {
	a := l.spokes[i]
	sender, seq, ok := ParseEventID(id)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !ok || sender >= len(a.lastFrom) || sender == i {
		a.strayFrame++
		return
	}
	last := int(a.lastFrom[sender])
	switch {
	case seq <= last:
		a.dupFanout++
	case seq > last+1:
		a.gapFanout++
		fallthrough
	default:
		a.lastFrom[sender] = int32(seq)
		a.fanout++
		l.received(1)
	}
}

// Tally is the ledger's totals.
type Tally struct {
	Sent         int64 // events dispatched
	Echoed       int64 // events whose echo came back (once)
	DupEchoes    int64 // echoes beyond the first
	FanoutWant   int64 // Sent times (spokes-1)
	FanoutGot    int64 // fan-out copies received, each event once
	DupFanout    int64 // copies received again
	GapFanout    int64 // copies that skipped an earlier event
	Stray        int64 // echoes or frames that name no sent event
	SpokesBehind int   // spokes still missing an echo or a copy
}

// Tally adds up the ledger.
func (l *Ledger) Tally() Tally {
	var t Tally
	n := int64(len(l.spokes))
	sent := make([]int, len(l.spokes))
	for i, a := range l.spokes {
		a.mu.Lock()
		sent[i] = a.sent
		t.Sent += int64(a.sent)
		for _, e := range a.echoes {
			t.Echoed += int64(e)
		}
		t.DupEchoes += a.dupEcho
		t.FanoutGot += a.fanout
		t.DupFanout += a.dupFanout
		t.GapFanout += a.gapFanout
		t.Stray += a.strayEcho + a.strayFrame
		a.mu.Unlock()
	}
	t.FanoutWant = t.Sent * (n - 1)
	for i, a := range l.spokes {
		if !a.caughtUp(i, sent) {
			t.SpokesBehind++
		}
	}
	return t
}

// caughtUp reports whether spoke i has every echo and every copy of the
// events in sent.
func (a *account) caughtUp(i int, sent []int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.echoes {
		if e == 0 {
			return false
		}
	}
	for s, n := range sent {
		if s != i && int(a.lastFrom[s]) < n {
			return false
		}
	}
	return true
}

// Complete reports whether every event was echoed and fanned out exactly
// once, with nothing duplicated, skipped or unknown.
func (t Tally) Complete() bool {
	return t.Echoed == t.Sent && t.FanoutGot == t.FanoutWant && t.DupEchoes == 0 &&
		t.DupFanout == 0 && t.GapFanout == 0 && t.Stray == 0 && t.SpokesBehind == 0
}

func (t Tally) String() string {
	return fmt.Sprintf("sent=%d echoed=%d dup_echoes=%d fanout_want=%d fanout_got=%d dup_fanout=%d gap_fanout=%d stray=%d spokes_behind=%d",
		t.Sent, t.Echoed, t.DupEchoes, t.FanoutWant, t.FanoutGot, t.DupFanout, t.GapFanout, t.Stray, t.SpokesBehind)
}
