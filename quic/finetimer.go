package quic

import (
	"sync/atomic"
	"time"
)

const (
	// fineTimerMax bounds the deadlines a fineTimer takes; beyond it the
	// millisecond error of Go's timers is small in proportion.
	fineTimerMax = 5 * time.Millisecond
	// maxSleepers bounds the sleeping goroutines, each on its own thread,
	// of the whole process: a hub that many spokes punch to at once falls
	// back to Go's timers (late, not lost) rather than spawn threads.
	maxSleepers = 16
)

var sleepers atomic.Int32

// fineTimer wakes the driver close to a deadline that Go's timers would
// miss. An idle Go process waits for its timers in the netpoller, whose
// timeout on Linux is whole milliseconds: a timer 300 µs away fires after
// about 1.1 ms. Hole punching resends answers at fractions of a relay
// round trip (one to a few milliseconds), so for its deadlines alone the
// driver also starts a goroutine that sleeps with a nanosecond timeout
// (about 0.1 ms late here) and then wakes it. They are a few per
// connection, and few at once in the process (maxSleepers).
type fineTimer struct {
	at    time.Time                          // the earliest pending sleeper's deadline
	start func(d time.Duration, wake func()) // sleeps d, then wakes; nil: sleepThenWake
}

// arm makes sure something wakes the driver at at (seen at now). Nothing
// starts if a pending sleeper wakes it no later: the driver re-arms then.
func (f *fineTimer) arm(now, at time.Time, wake func()) {
	d := at.Sub(now)
	if d <= 0 || d > fineTimerMax || (f.at.After(now) && !f.at.After(at)) {
		return
	}
	if sleepers.Add(1) > maxSleepers {
		sleepers.Add(-1)
		return
	}
	f.at = at
	start := f.start
	if start == nil {
		start = sleepThenWake
	}
	start(d, func() {
		sleepers.Add(-1)
		wake()
	})
}

func sleepThenWake(d time.Duration, wake func()) {
	go func() {
		preciseSleep(d)
		wake()
	}()
}
