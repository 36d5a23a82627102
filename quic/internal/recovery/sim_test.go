package recovery

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/congestion"
)

// simPacket is a datagram on the simulated link.
type simPacket struct {
	arrive time.Time
	pn     uint64
	chunk  int // data chunk carried, -1 for a bare probe
	ack    AckFrame
}

// simLink is a fixed-bandwidth bottleneck with constant propagation delay,
// a bounded queue and random loss, in virtual time.
type simLink struct {
	rng       *rand.Rand
	bandwidth float64 // bytes per second
	delay     time.Duration
	maxQueue  time.Duration
	loss      float64
	free      time.Time // when the bottleneck finishes its queue
	inFlight  []simPacket
}

func (l *simLink) send(now time.Time, size int, pkt simPacket) {
	start := now
	if l.free.After(now) {
		start = l.free
	}
	if start.Sub(now) > l.maxQueue || l.rng.Float64() < l.loss {
		return // tail drop or random loss
	}
	l.free = start.Add(time.Duration(float64(size) / l.bandwidth * float64(time.Second)))
	pkt.arrive = l.free.Add(l.delay)
	l.inFlight = append(l.inFlight, pkt)
}

func (l *simLink) next() (time.Time, bool) {
	if len(l.inFlight) == 0 {
		return time.Time{}, false
	}
	return l.inFlight[0].arrive, true
}

func (l *simLink) pop() simPacket {
	p := l.inFlight[0]
	l.inFlight = l.inFlight[1:]
	return p
}

func TestSimulatedTransfer(t *testing.T) {
	for _, tc := range []struct {
		name string
		cc   func() congestion.Controller
	}{
		{"cubic", func() congestion.Controller { return congestion.NewCubic(1200) }},
		{"newreno", func() congestion.Controller { return congestion.NewNewReno(1200) }},
	} {
		t.Run(tc.name, func(t *testing.T) { simulate(t, tc.cc()) })
	}
}

func simulate(t *testing.T, cc congestion.Controller) {
	rng := rand.New(rand.NewPCG(1, 2))
	// 20 Mbit/s, 50 ms RTT, 5% loss each way.
	fwd := &simLink{rng: rng, bandwidth: 2.5e6, delay: 25 * ms, maxQueue: 50 * ms, loss: 0.05}
	rev := &simLink{rng: rng, bandwidth: 1e9, delay: 25 * ms, maxQueue: time.Second, loss: 0.05}
	elapsed := simulateOn(t, cc, fwd, rev, 1000)
	// 1.2 MB at 2.5 MB/s takes 0.5 s unimpeded; 5% loss costs a lot, but
	// not a stall: demand better than 40 KB/s.
	if elapsed > 30*time.Second {
		t.Fatalf("transfer took %v", elapsed)
	}
}

// simulateOn moves chunks 1200-byte chunks over fwd (ACKs over rev) and
// returns the virtual time it took.
func simulateOn(t *testing.T, cc congestion.Controller, fwd, rev *simLink, chunks int) time.Duration {
	const size = 1200
	sender := NewPath[int](Config{AppDataOnly: true, Congestion: cc})
	receiver := NewAckTracker(DefaultMaxAckDelay, 0, 0, false)

	queue := make([]int, 0, chunks) // chunks waiting to be (re)sent
	for i := range chunks {
		queue = append(queue, i)
	}
	ackedChunks := make([]bool, chunks)
	nAcked := 0
	delivered := make([]bool, chunks)
	var ranges []AckRange
	var rpn uint64 // receiver's packet numbers for its ACK packets

	now := t0
	deadline := t0.Add(120 * time.Second)
	maxWindow := 0
	var ptos, persistent, lossEvents int
	for nAcked < chunks {
		if now.After(deadline) {
			t.Fatalf("transfer stalled: %d/%d chunks acknowledged, in flight %d", nAcked, chunks, sender.BytesInFlight())
		}
		// Send while the window, pacing and probes allow.
		var paceWake time.Time
		for {
			probe := sender.ProbesPending(AppData) > 0
			if !probe && (len(queue) == 0 || !sender.CanSend(AppData)) {
				break
			}
			if !probe {
				if d := sender.PacingDelay(now, size); d > 0 {
					paceWake = now.Add(d)
					break
				}
			}
			chunk := -1
			if len(queue) > 0 {
				chunk, queue = queue[0], queue[1:]
			}
			pn := sender.NextPacketNumber(AppData)
			if err := sender.OnPacketSent(AppData, SentPacket[int]{Number: pn, TimeSent: now, Size: size, AckEliciting: true, Payload: chunk}); err != nil {
				t.Fatal(err)
			}
			fwd.send(now, size, simPacket{pn: pn, chunk: chunk})
		}
		sender.SetAppLimited(len(queue) == 0)
		if sender.BytesInFlight() > 0 && sender.LossTimer().Kind == TimerNone {
			t.Fatalf("at %v: %d bytes in flight but no loss timer", now.Sub(t0), sender.BytesInFlight())
		}
		w := sender.Congestion().Window()
		if w < congestion.MinimumWindow(size) || w > 10<<20 {
			t.Fatalf("window %d out of bounds", w)
		}
		maxWindow = max(maxWindow, w)

		// Advance virtual time to the next event.
		next := sender.LossTimer().At
		consider := func(at time.Time, ok bool) {
			if ok && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		consider(fwd.next())
		consider(rev.next())
		consider(receiver.Deadline(), !receiver.Deadline().IsZero())
		consider(paceWake, !paceWake.IsZero())
		if next.IsZero() {
			t.Fatalf("no event scheduled with %d/%d acknowledged", nAcked, chunks)
		}
		if next.After(now) {
			now = next
		}

		for at, ok := fwd.next(); ok && !at.After(now); at, ok = fwd.next() {
			p := fwd.pop()
			if receiver.OnPacketReceived(p.pn, true, ECNNotECT, now) && p.chunk >= 0 {
				delivered[p.chunk] = true
			}
		}
		if receiver.ShouldSendAck(now) {
			ranges = receiver.AppendRanges(ranges[:0])
			frame := AckFrame{Ranges: append([]AckRange(nil), ranges...), AckDelay: receiver.AckDelay(now)}
			receiver.OnAckSent()
			rev.send(now, 50, simPacket{pn: rpn, ack: frame})
			rpn++
		}
		for at, ok := rev.next(); ok && !at.After(now); at, ok = rev.next() {
			p := rev.pop()
			res, err := sender.OnAckReceived(AppData, p.ack, now)
			if err != nil {
				t.Fatalf("ack: %v", err)
			}
			if res.PersistentCongestion {
				persistent++
			}
			if res.CongestionEvent {
				lossEvents++
			}
			for _, a := range res.Acked {
				if a.Payload >= 0 && !ackedChunks[a.Payload] {
					ackedChunks[a.Payload] = true
					nAcked++
				}
			}
			for _, l := range res.Lost {
				if l.Payload >= 0 && !ackedChunks[l.Payload] {
					queue = append(queue, l.Payload)
				}
			}
		}
		if tm := sender.LossTimer(); tm.Kind != TimerNone && !now.Before(tm.At) {
			r := sender.OnTimeout(now)
			for _, l := range r.Lost {
				if l.Payload >= 0 && !ackedChunks[l.Payload] {
					queue = append(queue, l.Payload)
				}
			}
			if r.PersistentCongestion {
				persistent++
			}
			if r.Kind == TimerPTO {
				ptos++
				// Probes resend the oldest unacknowledged data.
				sender.ForEachOutstanding(AppData, func(sp *SentPacket[int]) bool {
					if sp.Payload >= 0 && !ackedChunks[sp.Payload] {
						queue = append([]int{sp.Payload}, queue...)
						return false
					}
					return true
				})
			}
		}
	}
	for i, d := range delivered {
		if !d {
			t.Fatalf("chunk %d acknowledged but never delivered", i)
		}
	}
	elapsed := now.Sub(t0)
	t.Logf("%d chunks in %v virtual, max window %d, final window %d, srtt %v, PTOs %d, loss events %d, persistent %d",
		chunks, elapsed, maxWindow, sender.Congestion().Window(), sender.RTT().Smoothed(), ptos, lossEvents, persistent)
	if sender.RTT().Min() < 50*ms || sender.RTT().Smoothed() > time.Second {
		t.Fatalf("implausible RTT: min %v smoothed %v", sender.RTT().Min(), sender.RTT().Smoothed())
	}
	return elapsed
}
