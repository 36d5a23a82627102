package congestion

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestInitialAndMinimumWindow(t *testing.T) {
	for _, tc := range []struct{ mds, initial, minimum int }{
		{1200, 12000, 2400},
		{1452, 14520, 2904},
		{1500, 14720, 3000},
		{9000, 18000, 18000},
	} {
		if got := InitialWindow(tc.mds); got != tc.initial {
			t.Errorf("InitialWindow(%d) = %d, want %d", tc.mds, got, tc.initial)
		}
		if got := MinimumWindow(tc.mds); got != tc.minimum {
			t.Errorf("MinimumWindow(%d) = %d, want %d", tc.mds, got, tc.minimum)
		}
	}
}

// controllers lists every implementation for behaviour both must share.
func controllers() map[string]func() Controller {
	return map[string]func() Controller{
		"newreno": func() Controller { return NewNewReno(1200) },
		"cubic":   func() Controller { return NewCubic(1200) },
	}
}

func TestSlowStartDoublesPerRoundTrip(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			if !c.InSlowStart() || c.Window() != 12000 {
				t.Fatalf("start: slow start %v window %d", c.InSlowStart(), c.Window())
			}
			now := t0
			for round := 0; round < 3; round++ {
				w := c.Window()
				now = now.Add(50 * time.Millisecond)
				for sent := 0; sent < w; sent += 1200 {
					c.OnAck(Ack{Now: now, SentTime: now.Add(-50 * time.Millisecond), Bytes: 1200, SmoothedRTT: 50 * time.Millisecond})
				}
				if c.Window() != 2*w {
					t.Fatalf("round %d: window %d, want %d", round, c.Window(), 2*w)
				}
			}
		})
	}
}

func TestAppLimitedDoesNotGrow(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			c.OnAck(Ack{Now: t0, SentTime: t0, Bytes: 1200, AppLimited: true, SmoothedRTT: time.Millisecond})
			if c.Window() != 12000 {
				t.Fatalf("window grew to %d while app limited", c.Window())
			}
		})
	}
}

func TestOneReductionPerRecoveryPeriod(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			lossAt := t0.Add(time.Second)
			c.OnCongestionEvent(lossAt, t0.Add(900*time.Millisecond))
			after := c.Window()
			if after >= 12000 || c.InSlowStart() {
				t.Fatalf("window %d after loss, slow start %v", after, c.InSlowStart())
			}
			// More losses of packets sent before recovery began: no change.
			c.OnCongestionEvent(lossAt.Add(10*time.Millisecond), t0.Add(950*time.Millisecond))
			c.OnCongestionEvent(lossAt.Add(20*time.Millisecond), lossAt)
			if c.Window() != after {
				t.Fatalf("second reduction in one period: %d -> %d", after, c.Window())
			}
			if !c.InRecovery(lossAt) || c.InRecovery(lossAt.Add(time.Nanosecond)) {
				t.Fatal("InRecovery boundary wrong")
			}
			// Acks of pre-recovery packets do not grow the window.
			c.OnAck(Ack{Now: lossAt.Add(30 * time.Millisecond), SentTime: t0.Add(990 * time.Millisecond), Bytes: 1200, SmoothedRTT: 50 * time.Millisecond})
			if c.Window() != after {
				t.Fatalf("window grew during recovery: %d", c.Window())
			}
			// A loss of a packet sent after recovery began starts a new period.
			c.OnCongestionEvent(lossAt.Add(100*time.Millisecond), lossAt.Add(50*time.Millisecond))
			if c.Window() >= after {
				t.Fatalf("new period did not reduce: %d", c.Window())
			}
		})
	}
}

func TestPersistentCongestionCollapsesWindow(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			c.OnCongestionEvent(t0.Add(time.Second), t0)
			c.OnPersistentCongestion(t0.Add(time.Second))
			if c.Window() != 2400 {
				t.Fatalf("window %d, want minimum 2400", c.Window())
			}
			if !c.InSlowStart() {
				t.Fatal("should slow start back up to ssthresh")
			}
			if c.CanSend(2400) || !c.CanSend(2399) {
				t.Fatal("CanSend boundary wrong")
			}
		})
	}
}

func TestFloorAtMinimumWindow(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			now := t0
			for i := 0; i < 20; i++ {
				now = now.Add(time.Second)
				c.OnCongestionEvent(now, now)
			}
			if c.Window() != 2400 {
				t.Fatalf("window %d, want floor 2400", c.Window())
			}
		})
	}
}

func TestMaxDatagramSizeRaisesMinimum(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			c.OnCongestionEvent(t0, t0)
			c.OnPersistentCongestion(t0)
			c.SetMaxDatagramSize(1452)
			if c.Window() != 2904 {
				t.Fatalf("window %d, want 2904", c.Window())
			}
			c.SetMaxDatagramSize(0) // ignored
			if c.Window() != 2904 {
				t.Fatalf("window %d after invalid size", c.Window())
			}
		})
	}
}

func TestNewRenoCongestionAvoidance(t *testing.T) {
	r := NewNewReno(1200)
	r.OnCongestionEvent(t0, t0)
	if r.Window() != 6000 || r.SlowStartThreshold() != 6000 {
		t.Fatalf("after loss window %d ssthresh %d, want 6000", r.Window(), r.SlowStartThreshold())
	}
	now := t0.Add(time.Millisecond)
	ack := func(n int) {
		for i := 0; i < n; i++ {
			r.OnAck(Ack{Now: now, SentTime: now, Bytes: 1200})
		}
	}
	ack(4) // 4800 of 6000 acknowledged
	if r.Window() != 6000 {
		t.Fatalf("grew early: %d", r.Window())
	}
	ack(1) // a full window acknowledged: +1 datagram
	if r.Window() != 7200 {
		t.Fatalf("window %d, want 7200", r.Window())
	}
	ack(6)
	if r.Window() != 8400 {
		t.Fatalf("window %d, want 8400", r.Window())
	}
}

func TestCubicKMatchesFormula(t *testing.T) {
	// K = cbrt(W_max·(1−β)/C) when cwnd_epoch = β·W_max.
	for _, wMax := range []float64{10, 100, 1000} {
		want := math.Cbrt(wMax * (1 - 0.7) / 0.4)
		if got := CubicK(wMax, 0.7*wMax); math.Abs(got-want) > 1e-9 {
			t.Errorf("K(%v) = %v, want %v", wMax, got, want)
		}
		if got := CubicWindow(want, want, wMax); got != wMax {
			t.Errorf("W_cubic(K) = %v, want W_max %v", got, wMax)
		}
	}
}

func TestCubicReductionAndFastConvergence(t *testing.T) {
	c := NewCubic(1000)
	c.window = 100_000 // 100 segments
	c.OnCongestionEvent(t0, t0)
	if c.Window() != 70_000 || c.wMax != 100 {
		t.Fatalf("window %d wMax %v, want 70000 and 100", c.Window(), c.wMax)
	}
	// Lost again below the old maximum: W_max drops to cwnd·(1+β)/2.
	c.OnCongestionEvent(t0.Add(time.Second), t0.Add(time.Second))
	if c.Window() != 49_000 || math.Abs(c.wMax-70*1.7/2) > 1e-9 {
		t.Fatalf("window %d wMax %v, want 49000 and %v", c.Window(), c.wMax, 70*1.7/2)
	}
}

// driveRounds acknowledges a full window every rtt, packet by packet, and
// records the window (in segments) at the start of each round.
func driveRounds(c *Cubic, start time.Time, rtt time.Duration, rounds int) []float64 {
	var out []float64
	now := start
	for i := 0; i < rounds; i++ {
		out = append(out, c.window/float64(c.maxDatagramSize))
		w := c.Window()
		step := rtt / time.Duration(max(1, w/c.maxDatagramSize))
		for sent := 0; sent < w; sent += c.maxDatagramSize {
			now = now.Add(step)
			c.OnAck(Ack{Now: now, SentTime: now.Add(-rtt), Bytes: c.maxDatagramSize, SmoothedRTT: rtt})
		}
	}
	return out
}

func TestCubicFollowsCurve(t *testing.T) {
	// With a long RTT the cubic region dominates; the window should track
	// W_cubic(t) of RFC 9438 Eq. 1 (it aims one RTT ahead, so it may lead
	// by up to one RTT of curve growth).
	const mss = 1000
	rtt := 100 * time.Millisecond
	c := NewCubic(mss)
	c.window = 1000 * mss
	c.OnCongestionEvent(t0, t0)
	k := CubicK(1000, 700)
	start := t0.Add(time.Millisecond)
	got := driveRounds(c, start, rtt, 150)
	for _, round := range []int{10, 40, 80, 110, 149} {
		tSec := (time.Duration(round) * rtt).Seconds()
		lo := CubicWindow(tSec-rtt.Seconds(), k, 1000)
		hi := CubicWindow(tSec+rtt.Seconds(), k, 1000)
		if got[round] < lo*0.99 || got[round] > hi*1.01 {
			t.Errorf("t=%.1fs: window %.1f segments, want in [%.1f, %.1f] (W_cubic=%.1f)",
				tSec, got[round], lo, hi, CubicWindow(tSec, k, 1000))
		}
	}
	// Concave then convex: it flattens near W_max and then probes beyond.
	if got[int(k*10)] > 1010 || got[149] <= 1000 {
		t.Errorf("no plateau/probing: at K %.1f, end %.1f", got[int(k*10)], got[149])
	}
}

func TestCubicRenoFriendlyRegion(t *testing.T) {
	// Short RTT and small window: Reno grows faster than the cubic curve,
	// so the window follows W_est, gaining about α segments per RTT.
	const mss = 1000
	rtt := 10 * time.Millisecond
	c := NewCubic(mss)
	c.window = 20 * mss
	c.OnCongestionEvent(t0, t0)
	got := driveRounds(c, t0.Add(time.Millisecond), rtt, 21)
	gain := (got[10] - got[0]) / 10
	if math.Abs(gain-cubicAlpha) > 0.05 {
		t.Fatalf("Reno-friendly gain %.3f segments/RTT, want about %.3f", gain, cubicAlpha)
	}
	// Once W_est passes the window before the loss, α becomes 1.
	if gain := (got[20] - got[15]) / 5; math.Abs(gain-1) > 0.1 {
		t.Fatalf("gain after reaching cwnd_prior %.3f, want about 1", gain)
	}
	k := CubicK(20, 14)
	if cw := CubicWindow(0.2, k, 20); got[20] <= cw {
		t.Fatalf("window %.2f not above W_cubic %.2f", got[20], cw)
	}
}

func TestSpuriousCongestionUndoes(t *testing.T) {
	for name, mk := range controllers() {
		t.Run(name, func(t *testing.T) {
			c := mk()
			c.OnCongestionEvent(t0.Add(time.Second), t0) // leave slow start
			now := t0.Add(2 * time.Second)
			for i := 0; i < 20; i++ {
				c.OnAck(Ack{Now: now, SentTime: now, Bytes: 1200, SmoothedRTT: 50 * time.Millisecond})
			}
			before, ssthresh := c.Window(), c.SlowStartThreshold()
			c.OnPacketsLost(now, now)
			if c.Window() >= before {
				t.Fatalf("no reduction: %d", c.Window())
			}
			c.OnSpuriousCongestion()
			if c.Window() != before || c.SlowStartThreshold() != ssthresh || c.InRecovery(now) {
				t.Fatalf("after undo: window %d ssthresh %d (want %d, %d), in recovery %v", c.Window(), c.SlowStartThreshold(), before, ssthresh, c.InRecovery(now))
			}
			// Once only, and never after persistent congestion.
			c.OnSpuriousCongestion()
			if c.Window() != before {
				t.Fatalf("second undo changed the window to %d", c.Window())
			}
			later := now.Add(time.Second)
			c.OnPacketsLost(later, later)
			c.OnPersistentCongestion(later)
			c.OnSpuriousCongestion()
			if c.Window() != MinimumWindow(1200) {
				t.Fatalf("undo after persistent congestion: window %d", c.Window())
			}
		})
	}
}
