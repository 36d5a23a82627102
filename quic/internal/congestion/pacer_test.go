package congestion

import (
	"testing"
	"time"
)

func TestPacerBurstThenSpacing(t *testing.T) {
	const mds = 1200
	window := 120_000 // 100 datagrams
	rtt := 100 * time.Millisecond
	var p Pacer
	now := t0
	// The first ten datagrams leave back to back.
	for i := 0; i < pacingBurstPackets; i++ {
		if d := p.Delay(now, mds, window, rtt, mds); d != 0 {
			t.Fatalf("packet %d delayed %v inside the burst", i, d)
		}
		p.OnPacketSent(now, mds, window, rtt, mds)
	}
	// Then one datagram per mds/rate: 1200 / (1.25·120000/0.1 s) = 0.8 ms.
	want := 800 * time.Microsecond
	d := p.Delay(now, mds, window, rtt, mds)
	if d < want || d > want+time.Microsecond {
		t.Fatalf("delay %v, want about %v", d, want)
	}
	// Sending at the paced times keeps the delay at zero when woken on time.
	for i := 0; i < 50; i++ {
		now = p.NextSendTime(now, mds, window, rtt, mds)
		if d := p.Delay(now, mds, window, rtt, mds); d != 0 {
			t.Fatalf("step %d: still delayed %v at the promised time", i, d)
		}
		p.OnPacketSent(now, mds, window, rtt, mds)
	}
	// 50 packets after the burst took about 50·0.8 ms.
	if el := now.Sub(t0); el < 39*time.Millisecond || el > 41*time.Millisecond {
		t.Fatalf("50 paced packets took %v, want about 40ms", el)
	}
}

func TestPacerRefillIsCappedAtBurst(t *testing.T) {
	var p Pacer
	const mds = 1200
	rtt := 10 * time.Millisecond
	p.OnPacketSent(t0, mds, 1_000_000, rtt, mds)
	// After a long idle period no more than a burst may leave at once.
	now := t0.Add(time.Hour)
	sent := 0
	for p.Delay(now, mds, 1_000_000, rtt, mds) == 0 && sent < 100 {
		p.OnPacketSent(now, mds, 1_000_000, rtt, mds)
		sent++
	}
	if sent != pacingBurstPackets {
		t.Fatalf("burst after idle = %d packets, want %d", sent, pacingBurstPackets)
	}
}

func TestPacerSmallWindowLimitsBurst(t *testing.T) {
	var p Pacer
	const mds = 1200
	// With a 2-datagram window, the burst is the window.
	sent := 0
	for p.Delay(t0, mds, 2400, 50*time.Millisecond, mds) == 0 && sent < 10 {
		p.OnPacketSent(t0, mds, 2400, 50*time.Millisecond, mds)
		sent++
	}
	if sent != 2 {
		t.Fatalf("burst %d, want 2", sent)
	}
}

func TestPacerOffWithoutRTT(t *testing.T) {
	var p Pacer
	for i := 0; i < 100; i++ {
		if d := p.Delay(t0, 1200, 12000, 0, 1200); d != 0 {
			t.Fatalf("paced without an RTT: %v", d)
		}
		p.OnPacketSent(t0, 1200, 12000, 0, 1200)
	}
}

func TestPacerClockGoingBackwards(t *testing.T) {
	var p Pacer
	rtt := 50 * time.Millisecond
	for i := 0; i < 20; i++ {
		p.OnPacketSent(t0, 1200, 12000, rtt, 1200)
	}
	// Earlier time must not mint credit nor panic.
	if d := p.Delay(t0.Add(-time.Second), 1200, 12000, rtt, 1200); d <= 0 {
		t.Fatalf("delay %v, want positive", d)
	}
	// Debt is bounded by one burst, and a packet larger than the bucket
	// waits only for a full bucket: at most two bursts' worth of time.
	if d := p.Delay(t0, 1<<20, 12000, rtt, 1200); d <= 0 || d > 2*rtt {
		t.Fatalf("delay for oversized packet %v", d)
	}
}
