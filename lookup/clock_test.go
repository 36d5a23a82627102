package lookup

import (
	"sync"
	"time"
)

// manualClock is a Clock that moves only when a test advances it.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	clk    *manualClock
	c      chan time.Time
	when   time.Time
	active bool
}

func newManualClock(start time.Time) *manualClock { return &manualClock{now: start} }

func (m *manualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *manualClock) NewTimer() Timer {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{clk: m, c: make(chan time.Time, 1)}
	m.timers = append(m.timers, t)
	return t
}

// Advance moves the clock and fires the timers that come due.
func (m *manualClock) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	for _, t := range m.timers {
		if t.active && !t.when.After(m.now) {
			t.active = false
			t.c <- m.now
		}
	}
}

// armed returns the deadlines of the active timers.
func (m *manualClock) armed() []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, t := range m.timers {
		if t.active {
			out = append(out, t.when)
		}
	}
	return out
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

// Reset drops a fired but unread tick, like time.Timer since Go 1.23.
func (t *manualTimer) Reset(d time.Duration) {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	select {
	case <-t.c:
	default:
	}
	t.when, t.active = t.clk.now.Add(d), true
}

func (t *manualTimer) Stop() {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	t.active = false
}
