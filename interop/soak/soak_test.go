package soak

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/internal/soakstat"
)

// EnvLong selects the long soak versions.
const EnvLong = "IROHSPOKE_SOAK"

// soakPlan is one version of the fan-out soak.
type soakPlan struct {
	spokes   int
	rate     float64       // events per second, all spokes together
	warmup   time.Duration // traffic before the start figures
	duration time.Duration // traffic between the start and end figures
	sample   time.Duration // figures logged this often during traffic
	growth   soakstat.Growth
}

var (
	shortSoak = soakPlan{
		spokes: 100, rate: 30, warmup: 2 * time.Second, duration: 8 * time.Second, sample: 4 * time.Second,
		growth: soakstat.Growth{MemFactor: 1.5, HeapSlack: 16 << 20, RSSSlack: 32 << 20, GoroutineSlack: 20, FDSlack: 8},
	}
	// 1000 spokes at 5 events/s are 5,000 fan-out frames a second through
	// the hub. At 10/s two shared cores were 80 % busy (each frame costs
	// both ends a packet, an ACK and goroutine wake-ups) and the sender
	// fell behind its schedule.
	longSoak = soakPlan{
		spokes: 1000, rate: 5, warmup: 30 * time.Second, duration: 10 * time.Minute, sample: time.Minute,
		growth: soakstat.Growth{MemFactor: 1.25, HeapSlack: 32 << 20, RSSSlack: 64 << 20, GoroutineSlack: 50, FDSlack: 8},
	}
)

func plan() soakPlan {
	if os.Getenv(EnvLong) == "1" {
		return longSoak
	}
	return shortSoak
}

// TestSoakFanout: n spokes send steady traffic through one Go hub; nothing
// may be lost, duplicated or reordered, and the process's heap, RSS,
// goroutines and descriptors must be as flat at the end as at the start.
func TestSoakFanout(t *testing.T) {
	p := plan()
	ctx, cancel := context.WithTimeout(context.Background(), p.warmup+p.duration+5*time.Minute)
	defer cancel()
	baseline := runtime.NumGoroutine()

	began := time.Now()
	f, err := StartFleet(ctx, p.spokes, 32)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			f.Close()
		}
	}()
	t.Logf("soak: connected spokes=%d hub_streams=%d connect_ms=%d connect_retries=%d", f.Spokes(), f.Connected(), time.Since(began).Milliseconds(), f.ConnectRetries())

	drive(ctx, t, f, p.rate, p.warmup, 0)
	settle(ctx, t, f)
	start := measure(t, "start", f)

	drive(ctx, t, f, p.rate, p.duration, p.sample)
	tally := settle(ctx, t, f)
	end := measure(t, "end", f)

	c := f.Counters()
	t.Logf("soak: delivery spokes=%d %s %s", f.Spokes(), tally, c)
	t.Logf("soak: echo_rtt %s", f.EchoRTT())
	if c.Delivered != uint64(tally.Sent) || c.Failed != 0 || c.Disconnects != 0 || c.Reconnects != 0 {
		t.Errorf("events sent %d, acknowledged %d; failed %d, disconnects %d, reconnects %d: want all acknowledged, none lost",
			tally.Sent, c.Delivered, c.Failed, c.Disconnects, c.Reconnects)
	}
	for _, inc := range f.Incidents() {
		t.Logf("soak: incident %s", inc)
	}
	if f.Connected() != f.Spokes() {
		t.Errorf("hub has %d spokes at the end, want %d", f.Connected(), f.Spokes())
	}
	if err := p.growth.CheckFlat(start, end); err != nil {
		t.Error(err)
	}

	f.Close()
	closed = true
	checkTeardown(t, baseline)
}

// drive sends traffic for d, logging figures every sample (0: never).
func drive(ctx context.Context, t *testing.T, f *Fleet, rate float64, d, sample time.Duration) {
	t.Helper()
	if sample <= 0 {
		sample = d
	}
	for left := d; left > 0; left -= sample {
		if err := f.Drive(ctx, rate, min(left, sample)); err != nil {
			t.Fatal(err)
		}
		if left > sample {
			measure(t, "sample", f)
		}
	}
}

// settle waits until every event is echoed, fanned out and acknowledged.
func settle(ctx context.Context, t *testing.T, f *Fleet) Tally {
	t.Helper()
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tally, err := f.Drain(dctx)
	if err != nil {
		t.Fatalf("%v; %s", err, f.Counters())
	}
	if err := f.Flush(dctx); err != nil {
		t.Fatalf("events still queued after every echo arrived: %v; %s", err, f.Counters())
	}
	return tally
}

func measure(t *testing.T, phase string, f *Fleet) soakstat.Figures {
	t.Helper()
	fig, err := soakstat.Measure()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("soak: figures phase=%s spokes=%d sent=%d %s", phase, f.Spokes(), f.Ledger.Tally().Sent, fig)
	return fig
}

// checkTeardown requires the goroutines to return to what ran before the
// fleet, within a small allowance for runtime and test helpers.
func checkTeardown(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	n := runtime.NumGoroutine()
	for n > baseline+5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	t.Logf("soak: teardown goroutines_before=%d goroutines_after=%d", baseline, n)
	if n > baseline+5 {
		t.Errorf("%d goroutines remain after closing the fleet, %d before it", n, baseline)
	}
}
