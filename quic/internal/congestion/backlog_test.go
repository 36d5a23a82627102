package congestion

import (
	"testing"
	"time"
)

const ms = time.Millisecond

// feed gives c one RTT sample per 10 ms from start, for n samples.
func feed(c *Cubic, start time.Time, n int, rtt, minRTT time.Duration) time.Time {
	now := start
	for i := 0; i < n; i++ {
		c.OnRTTSample(RTTSample{Now: now, Latest: rtt, Min: minRTT, Smoothed: rtt})
		now = now.Add(10 * ms)
	}
	return now
}

func TestBacklogEstimate(t *testing.T) {
	var b backlogEstimate
	if _, ok := b.packets(10); ok {
		t.Fatal("estimate without samples")
	}
	for _, tc := range []struct {
		rtt  time.Duration
		want float64
	}{
		{50 * ms, 0},
		{60 * ms, 10 * 10.0 / 60}, // 10 ms of a 60 ms round trip queued
		{100 * ms, 5},
	} {
		b = backlogEstimate{}
		for i := 0; i < 30; i++ {
			b.onSample(RTTSample{Now: t0.Add(time.Duration(i) * 10 * ms), Latest: tc.rtt, Min: 50 * ms, Smoothed: tc.rtt})
		}
		if got, ok := b.packets(10); !ok || got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("rtt %v: %v packets queued, want %v", tc.rtt, got, tc.want)
		}
	}
	// One ACK delayed by 25 ms among prompt ones is no queue: the smallest
	// sample of the round counts.
	b = backlogEstimate{}
	for i := 0; i < 10; i++ {
		rtt := 50 * ms
		if i%2 == 1 {
			rtt += 25 * ms
		}
		b.onSample(RTTSample{Now: t0.Add(time.Duration(i) * 10 * ms), Latest: rtt, Min: 50 * ms, Smoothed: 55 * ms})
	}
	if got, _ := b.packets(10); got != 0 {
		t.Fatalf("%v packets queued from delayed ACKs", got)
	}
	// A queue that builds shows within two rounds.
	for i := 10; i < 30; i++ {
		b.onSample(RTTSample{Now: t0.Add(time.Duration(i) * 10 * ms), Latest: 100 * ms, Min: 50 * ms, Smoothed: 60 * ms})
	}
	if got, _ := b.packets(10); got != 5 {
		t.Fatalf("%v packets queued, want 5", got)
	}
}

func TestCubicLossReductionFollowsTheQueue(t *testing.T) {
	for _, tc := range []struct {
		name string
		rtt  time.Duration // samples before the loss; the minimum is 50 ms
		want int
	}{
		{"no samples", 0, 70_000},
		{"no queue", 50 * ms, 85_000},
		{"2 packets queued", 51 * ms, 85_000},
		{"30 packets queued", 71 * ms, 70_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCubic(1000)
			c.window = 100_000
			now := t0
			if tc.rtt > 0 {
				now = feed(c, t0, 20, tc.rtt, 50*ms)
			}
			c.OnPacketsLost(now, now)
			if c.Window() != tc.want || c.SlowStartThreshold() != tc.want {
				t.Fatalf("window %d ssthresh %d, want %d", c.Window(), c.SlowStartThreshold(), tc.want)
			}
			// Still one reduction per recovery period.
			c.OnPacketsLost(now.Add(ms), now)
			if c.Window() != tc.want {
				t.Fatalf("second reduction in one period: %d", c.Window())
			}
		})
	}
}

// TestCubicCEIsAlwaysCongestion: an ECN-CE mark is explicit; no queue
// estimate softens it.
func TestCubicCEIsAlwaysCongestion(t *testing.T) {
	c := NewCubic(1000)
	c.window = 100_000
	now := feed(c, t0, 20, 50*ms, 50*ms)
	c.OnCongestionEvent(now, now)
	if c.Window() != 70_000 {
		t.Fatalf("window %d after CE, want 70000", c.Window())
	}
}
