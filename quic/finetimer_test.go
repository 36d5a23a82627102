package quic

import (
	"slices"
	"testing"
	"time"
)

func TestFineTimerArm(t *testing.T) {
	var started []time.Duration
	var wakes []func()
	f := fineTimer{start: func(d time.Duration, wake func()) {
		started = append(started, d)
		wakes = append(wakes, wake)
	}}
	t0 := time.Unix(1000, 0)
	ms := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Millisecond))) }
	nop := func() {}

	f.arm(t0, ms(0.3), nop)     // starts
	f.arm(t0, ms(0.8), nop)     // the pending one wakes the driver first
	f.arm(t0, ms(0.3), nop)     // the same deadline: nothing new
	f.arm(t0, ms(0.2), nop)     // earlier: starts
	f.arm(t0, ms(-0.1), nop)    // past: the driver's own loop handles it
	f.arm(t0, ms(0), nop)       // now: likewise
	f.arm(t0, ms(6), nop)       // far: Go's timer is close enough
	f.arm(ms(0.25), ms(1), nop) // the pending ones fired: starts
	want := []time.Duration{300 * time.Microsecond, 200 * time.Microsecond, 750 * time.Microsecond}
	if !slices.Equal(started, want) {
		t.Fatalf("sleepers started for %v, want %v", started, want)
	}
	for _, w := range wakes {
		w()
	}
	if n := sleepers.Load(); n != 0 {
		t.Fatalf("%d sleepers left", n)
	}
}

// TestFineTimerWakes: the default sleeper runs and wakes the driver.
func TestFineTimerWakes(t *testing.T) {
	var f fineTimer
	woke := make(chan struct{})
	f.arm(time.Now(), time.Now().Add(100*time.Microsecond), func() { close(woke) })
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake")
	}
}

// BenchmarkWakeLate: how late a goroutine waiting 300 µs wakes, by a Go
// timer and by preciseSleep (late-µs, median), in an otherwise idle
// process: why the driver uses a fineTimer for hole punching.
func BenchmarkWakeLate(b *testing.B) {
	const d = 300 * time.Microsecond
	for _, m := range []struct {
		name string
		wait func(wake func())
	}{
		{"go-timer", func(wake func()) { time.AfterFunc(d, wake) }},
		{"fine", func(wake func()) { go func() { preciseSleep(d); wake() }() }},
	} {
		b.Run(m.name, func(b *testing.B) {
			var late []time.Duration
			ch := make(chan struct{}, 1)
			for b.Loop() {
				t0 := time.Now()
				m.wait(func() { ch <- struct{}{} })
				<-ch
				late = append(late, time.Since(t0)-d)
			}
			slices.Sort(late)
			b.ReportMetric(float64(late[len(late)/2])/float64(time.Microsecond), "late-µs")
		})
	}
}

// TestFineTimerBounded: past maxSleepers at once, arm leaves the deadline
// to Go's timer, and starts sleepers again once some are done.
func TestFineTimerBounded(t *testing.T) {
	var wakes []func()
	hold := func(d time.Duration, wake func()) { wakes = append(wakes, wake) }
	timers := make([]fineTimer, 2*maxSleepers)
	now := time.Now()
	for i := range timers {
		timers[i].start = hold
		timers[i].arm(now, now.Add(time.Millisecond), func() {})
	}
	if len(wakes) != maxSleepers || sleepers.Load() != maxSleepers {
		t.Fatalf("%d started, %d counted; want %d", len(wakes), sleepers.Load(), maxSleepers)
	}
	wakes[0]()
	f := fineTimer{start: hold}
	f.arm(now, now.Add(time.Millisecond), func() {})
	if len(wakes) != maxSleepers+1 {
		t.Fatal("no sleeper after one was done")
	}
	for _, w := range wakes[1:] {
		w()
	}
	if n := sleepers.Load(); n != 0 {
		t.Fatalf("%d sleepers left", n)
	}
}
