package recovery

import (
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/congestion"
)

// confirmedPath is a client path after the handshake, with the given RTT
// already sampled.
func confirmedPath(t *testing.T, rtt time.Duration) *Path[int] {
	t.Helper()
	p := NewPath[int](Config{AppDataOnly: true, Congestion: congestion.NewNewReno(1200)})
	if rtt > 0 {
		p.rtt.Update(t0, rtt, 0, 0, true)
	}
	return p
}

func send(t *testing.T, p *Path[int], s Space, pn uint64, at time.Time) {
	t.Helper()
	err := p.OnPacketSent(s, SentPacket[int]{Number: pn, TimeSent: at, Size: 1200, AckEliciting: true, Payload: int(pn)})
	if err != nil {
		t.Fatalf("send %d: %v", pn, err)
	}
}

func ack(t *testing.T, p *Path[int], s Space, now time.Time, ranges ...AckRange) AckResult[int] {
	t.Helper()
	res, err := p.OnAckReceived(s, AckFrame{Ranges: ranges}, now)
	if err != nil {
		t.Fatalf("ack %v: %v", ranges, err)
	}
	return res
}

func numbers(ps []SentPacket[int]) []uint64 {
	var out []uint64
	for _, p := range ps {
		out = append(out, p.Number)
		if p.Payload != int(p.Number) {
			panic("payload lost")
		}
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInOrderAcks(t *testing.T) {
	p := confirmedPath(t, 0)
	for pn := range uint64(10) {
		send(t, p, AppData, pn, t0.Add(time.Duration(pn)*ms))
	}
	if p.BytesInFlight() != 12000 || p.LossTimer().Kind != TimerPTO {
		t.Fatalf("in flight %d timer %v", p.BytesInFlight(), p.LossTimer().Kind)
	}
	res := ack(t, p, AppData, t0.Add(60*ms), AckRange{0, 9})
	if !equal(numbers(res.Acked), []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) || len(res.Lost) != 0 || !res.RTTUpdated {
		t.Fatalf("acked %v lost %v rtt %v", numbers(res.Acked), numbers(res.Lost), res.RTTUpdated)
	}
	if p.RTT().Latest() != 51*ms {
		t.Fatalf("sample %v, want 51ms (from the largest)", p.RTT().Latest())
	}
	if p.BytesInFlight() != 0 || p.LossTimer().Kind != TimerNone {
		t.Fatalf("after ack: in flight %d timer %v", p.BytesInFlight(), p.LossTimer().Kind)
	}
	if l, ok := p.LargestAcked(AppData); !ok || l != 9 {
		t.Fatalf("largest acked %d %v", l, ok)
	}
	// Slow start grew the window by the acknowledged bytes.
	if w := p.Congestion().Window(); w != 24000 {
		t.Fatalf("window %d", w)
	}
	// A repeated ACK changes nothing.
	res = ack(t, p, AppData, t0.Add(70*ms), AckRange{0, 9})
	if len(res.Acked) != 0 || res.RTTUpdated {
		t.Fatal("duplicate ACK acknowledged again")
	}
}

func TestPacketThresholdThenTimeThreshold(t *testing.T) {
	p := confirmedPath(t, 40*ms)
	for pn := range uint64(6) {
		send(t, p, AppData, pn, t0.Add(time.Duration(pn)*ms))
	}
	// ACK of 3 alone: 0 is 3 behind → lost; 1 and 2 wait for the timer.
	now := t0.Add(50 * ms)
	res := ack(t, p, AppData, now, AckRange{3, 3})
	if !equal(numbers(res.Acked), []uint64{3}) || !equal(numbers(res.Lost), []uint64{0}) || !res.CongestionEvent {
		t.Fatalf("acked %v lost %v event %v", numbers(res.Acked), numbers(res.Lost), res.CongestionEvent)
	}
	timer := p.LossTimer()
	// loss delay = 9/8 · max(smoothed, latest); the loss time is from pn 1.
	lossDelay := p.RTT().lossDelay()
	if timer.Kind != TimerLoss || timer.Space != AppData || !timer.At.Equal(t0.Add(1*ms+lossDelay)) {
		t.Fatalf("timer %+v, want loss at %v", timer, t0.Add(ms+lossDelay))
	}
	if nt := p.NextTimer(); nt != timer {
		t.Fatalf("NextTimer %+v", nt)
	}
	if r := p.OnTimeout(timer.At.Add(-time.Nanosecond)); r.Kind != TimerNone {
		t.Fatal("timer fired early")
	}
	r := p.OnTimeout(timer.At)
	if r.Kind != TimerLoss || !equal(numbers(r.Lost), []uint64{1}) {
		t.Fatalf("timeout %v lost %v", r.Kind, numbers(r.Lost))
	}
	r = p.OnTimeout(p.LossTimer().At)
	if r.Kind != TimerLoss || !equal(numbers(r.Lost), []uint64{2}) {
		t.Fatalf("second timeout %v lost %v", r.Kind, numbers(r.Lost))
	}
	// 4 and 5 remain; the timer is a PTO again.
	if p.BytesInFlight() != 2400 || p.LossTimer().Kind != TimerPTO {
		t.Fatalf("in flight %d timer %v", p.BytesInFlight(), p.LossTimer().Kind)
	}
	// One window reduction for the whole loss episode.
	if w := p.Congestion().Window(); w != 6000 {
		t.Fatalf("window %d, want one halving to 6000", w)
	}
	var out []uint64
	p.ForEachOutstanding(AppData, func(sp *SentPacket[int]) bool { out = append(out, sp.Number); return true })
	if !equal(out, []uint64{4, 5}) {
		t.Fatalf("outstanding %v", out)
	}
}

func TestPTOBackoffAndProbes(t *testing.T) {
	p := confirmedPath(t, 0) // initial RTT 333ms: PTO 999ms + 25ms max_ack_delay
	send(t, p, AppData, 0, t0)
	want := t0.Add(1024 * ms)
	if tm := p.LossTimer(); tm.Kind != TimerPTO || !tm.At.Equal(want) {
		t.Fatalf("timer %+v, want PTO at %v", tm, want)
	}
	r := p.OnTimeout(want)
	if r.Kind != TimerPTO || r.Probes != 2 || r.Space != AppData || p.PTOCount() != 1 {
		t.Fatalf("pto %+v count %d", r, p.PTOCount())
	}
	if p.ProbesPending(AppData) != 2 {
		t.Fatal("probes not pending")
	}
	// Backoff doubles from the last ack-eliciting send.
	if tm := p.LossTimer(); !tm.At.Equal(t0.Add(2048 * ms)) {
		t.Fatalf("backed-off timer %v", tm.At)
	}
	// Probes ignore the window and re-arm from their send time.
	for i := 0; i < 100; i++ {
		p.cc.OnPacketSent(want, 0)
	}
	send(t, p, AppData, 1, want)
	send(t, p, AppData, 2, want)
	if p.ProbesPending(AppData) != 0 {
		t.Fatal("probes not consumed")
	}
	if tm := p.LossTimer(); !tm.At.Equal(want.Add(2048 * ms)) {
		t.Fatalf("timer after probes %v", tm.At)
	}
	r = p.OnTimeout(want.Add(2048 * ms))
	if r.Kind != TimerPTO || p.PTOCount() != 2 {
		t.Fatalf("second pto %+v", r)
	}
	if tm := p.LossTimer(); !tm.At.Equal(want.Add(4096 * ms)) {
		t.Fatalf("timer after second pto %v", tm.At)
	}
	// An ACK resets the backoff.
	ack(t, p, AppData, want.Add(4000*ms), AckRange{2, 2})
	if p.PTOCount() != 0 {
		t.Fatalf("pto count %d after ack", p.PTOCount())
	}
}

func TestHandshakePTORules(t *testing.T) {
	p := NewPath[int](Config{})
	send(t, p, Initial, 0, t0)
	send(t, p, AppData, 0, t0) // 0-RTT: not probed before confirmation
	// Initial PTO has no max_ack_delay: 999ms.
	if tm := p.LossTimer(); tm.Kind != TimerPTO || tm.Space != Initial || !tm.At.Equal(t0.Add(999*ms)) {
		t.Fatalf("timer %+v", tm)
	}
	// Initial is acked (and its delay ignored); AppData still not probed,
	// but a client that has not had its address validated keeps a PTO:
	// anti-deadlock in Initial.
	res, err := p.OnAckReceived(Initial, AckFrame{Ranges: []AckRange{{0, 0}}, AckDelay: 50 * ms}, t0.Add(100*ms))
	if err != nil || p.RTT().Smoothed() != 100*ms || len(res.Acked) != 1 {
		t.Fatalf("ack: %v smoothed %v", err, p.RTT().Smoothed())
	}
	if tm := p.LossTimer(); tm.Kind != TimerNone {
		// AppData is in flight but not probed before confirmation, and
		// nothing else is: per §A.8 the timer is unset while ack-eliciting
		// packets are in flight in a space that may not be probed.
		t.Fatalf("timer %+v", tm)
	}
	p.DiscardSpace(Initial, t0.Add(100*ms))
	p.SetHandshakeKeys(t0.Add(100 * ms))
	p.SetHandshakeConfirmed(t0.Add(200 * ms))
	// Now AppData is probed, with max_ack_delay: 100 + 4·50 + 25.
	if tm := p.LossTimer(); tm.Kind != TimerPTO || tm.Space != AppData || !tm.At.Equal(t0.Add(325*ms)) {
		t.Fatalf("timer after confirmation %+v", tm)
	}
}

func TestClientAntiDeadlock(t *testing.T) {
	p := NewPath[int](Config{})
	send(t, p, Initial, 0, t0)
	ack(t, p, Initial, t0.Add(100*ms), AckRange{0, 0})
	// Nothing in flight and the server has not validated us: PTO anyway.
	now := t0.Add(100 * ms)
	p.SetHandshakeKeys(now)
	tm := p.LossTimer()
	if tm.Kind != TimerPTO || tm.Space != Handshake || !tm.At.Equal(now.Add(p.RTT().PTO())) {
		t.Fatalf("timer %+v", tm)
	}
	r := p.OnTimeout(tm.At)
	if r.Kind != TimerPTO || r.Space != Handshake || r.Probes != 1 {
		t.Fatalf("timeout %+v", r)
	}
	// Any Handshake ACK proves the server validated our address.
	send(t, p, Handshake, 0, tm.At)
	ack(t, p, Handshake, tm.At.Add(100*ms), AckRange{0, 0})
	if tm := p.LossTimer(); tm.Kind != TimerNone {
		t.Fatalf("timer %+v after handshake ack", tm)
	}
}

func TestServerAmplificationBlocked(t *testing.T) {
	p := NewPath[int](Config{IsServer: true})
	send(t, p, Initial, 0, t0)
	p.SetAmplificationBlocked(true, t0)
	if p.LossTimer().Kind != TimerNone {
		t.Fatal("PTO armed while amplification limited")
	}
	p.SetAmplificationBlocked(false, t0)
	if p.LossTimer().Kind != TimerPTO {
		t.Fatal("PTO not re-armed")
	}
	// A server never needs the anti-deadlock PTO.
	ack(t, p, Initial, t0.Add(10*ms), AckRange{0, 0})
	if p.LossTimer().Kind != TimerNone {
		t.Fatal("server armed anti-deadlock PTO")
	}
}

func TestPersistentCongestion(t *testing.T) {
	p := confirmedPath(t, 0)
	send(t, p, AppData, 0, t0)
	ack(t, p, AppData, t0.Add(50*ms), AckRange{0, 0}) // first sample after t0
	start := t0.Add(60 * ms)
	for pn := uint64(1); pn <= 10; pn++ {
		send(t, p, AppData, pn, start.Add(time.Duration(pn-1)*100*ms))
	}
	// Only 10 arrives, sampling 100ms: smoothed 56.25, rttvar 31.25, so the
	// period is (56.25+125+25)·3 = 618.75ms; 1..9 span 800ms with nothing
	// acknowledged between.
	res := ack(t, p, AppData, start.Add(1000*ms), AckRange{10, 10})
	if !equal(numbers(res.Lost), []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}) || !res.PersistentCongestion {
		t.Fatalf("lost %v persistent %v", numbers(res.Lost), res.PersistentCongestion)
	}
	// RFC 9002 §A.10 ends the recovery period on persistent congestion, so
	// the ACK of 10, processed after the losses, grows the minimum window
	// by one datagram in slow start.
	if w := p.Congestion().Window(); w != 2400+1200 {
		t.Fatalf("window %d, want minimum plus one datagram", w)
	}
}

func TestNoPersistentCongestionWhenAckInBetween(t *testing.T) {
	p := confirmedPath(t, 0)
	send(t, p, AppData, 0, t0)
	ack(t, p, AppData, t0.Add(50*ms), AckRange{0, 0})
	start := t0.Add(60 * ms)
	for pn := uint64(1); pn <= 12; pn++ {
		send(t, p, AppData, pn, start.Add(time.Duration(pn-1)*100*ms))
	}
	// 5 was acknowledged: runs 1-4 and 6-8 are each shorter than 525ms.
	ack(t, p, AppData, start.Add(450*ms), AckRange{5, 5})
	res := ack(t, p, AppData, start.Add(1200*ms), AckRange{12, 12}, AckRange{5, 5})
	if res.PersistentCongestion {
		t.Fatalf("persistent congestion across an acknowledged packet; lost %v", numbers(res.Lost))
	}
	if p.Congestion().Window() == 2400 {
		t.Fatal("window collapsed")
	}
}

func TestAckErrors(t *testing.T) {
	p := confirmedPath(t, 0)
	for pn := range uint64(3) {
		send(t, p, AppData, pn, t0)
	}
	if err := p.SkipPacketNumber(AppData); err != nil {
		t.Fatal(err)
	}
	send(t, p, AppData, 4, t0)
	for _, tc := range []struct {
		ranges []AckRange
		want   error
	}{
		{nil, ErrInvalidAckRanges},
		{[]AckRange{{2, 1}}, ErrInvalidAckRanges},
		{[]AckRange{{1, 2}, {2, 2}}, ErrInvalidAckRanges},
		{[]AckRange{{0, 0}, {2, 2}}, ErrInvalidAckRanges},
		{[]AckRange{{5, 5}}, ErrAckOfUnsentPacket},
		{[]AckRange{{3, 4}}, ErrAckOfSkippedPacket},
	} {
		if _, err := p.OnAckReceived(AppData, AckFrame{Ranges: tc.ranges}, t0); !errors.Is(err, tc.want) {
			t.Errorf("%v: err %v, want %v", tc.ranges, err, tc.want)
		}
	}
	if _, err := p.OnAckReceived(Initial, AckFrame{Ranges: []AckRange{{0, 0}}}, t0); !errors.Is(err, ErrSpaceDiscarded) {
		t.Errorf("initial on an app-data path: %v", err)
	}
	if _, err := p.OnAckReceived(Space(9), AckFrame{Ranges: []AckRange{{0, 0}}}, t0); !errors.Is(err, ErrInvalidSpace) {
		t.Errorf("bad space: %v", err)
	}
	if err := p.OnPacketSent(AppData, SentPacket[int]{Number: 4, TimeSent: t0}); !errors.Is(err, ErrPacketNumberReused) {
		t.Errorf("reused pn: %v", err)
	}
	// State unchanged by the rejected frames.
	if p.BytesInFlight() != 4*1200 {
		t.Fatalf("in flight %d", p.BytesInFlight())
	}
	if p.NextPacketNumber(AppData) != 5 {
		t.Fatalf("next pn %d", p.NextPacketNumber(AppData))
	}
}

func TestDiscardSpace(t *testing.T) {
	p := NewPath[int](Config{})
	send(t, p, Initial, 0, t0)
	send(t, p, Initial, 1, t0)
	send(t, p, Handshake, 0, t0)
	p.Acks(Initial).OnPacketReceived(0, true, ECNNotECT, t0)
	dropped := p.DiscardSpace(Initial, t0.Add(ms))
	if !equal(numbers(dropped), []uint64{0, 1}) {
		t.Fatalf("dropped %v", numbers(dropped))
	}
	if p.BytesInFlight() != 1200 || !p.Discarded(Initial) || p.Acks(Initial).HasRanges() {
		t.Fatalf("in flight %d", p.BytesInFlight())
	}
	if tm := p.LossTimer(); tm.Space != Handshake {
		t.Fatalf("timer %+v", tm)
	}
	if err := p.OnPacketSent(Initial, SentPacket[int]{Number: 2, TimeSent: t0}); !errors.Is(err, ErrSpaceDiscarded) {
		t.Fatalf("send after discard: %v", err)
	}
	if p.DiscardSpace(Initial, t0) != nil {
		t.Fatal("second discard returned packets")
	}
}

func TestECNCongestionEvent(t *testing.T) {
	p := confirmedPath(t, 20*ms)
	for pn := range uint64(4) {
		send(t, p, AppData, pn, t0.Add(time.Duration(pn)*ms))
	}
	res, err := p.OnAckReceived(AppData, AckFrame{Ranges: []AckRange{{0, 1}}, HasECN: true, ECN: ECNCounts{ECT0: 2}}, t0.Add(30*ms))
	if err != nil || res.CongestionEvent {
		t.Fatalf("%v %v", err, res.CongestionEvent)
	}
	res, err = p.OnAckReceived(AppData, AckFrame{Ranges: []AckRange{{0, 3}}, HasECN: true, ECN: ECNCounts{ECT0: 3, CE: 1}}, t0.Add(31*ms))
	if err != nil || !res.CongestionEvent || p.Congestion().Window() >= 12000 {
		t.Fatalf("CE not acted on: %v %v window %d", err, res.CongestionEvent, p.Congestion().Window())
	}
}

func TestPathsAreIndependent(t *testing.T) {
	a := NewPath[int](Config{})
	b := NewPath[int](Config{AppDataOnly: true})
	if !b.Discarded(Initial) || !b.Discarded(Handshake) || b.Discarded(AppData) {
		t.Fatal("app-data-only path spaces")
	}
	send(t, a, Initial, 0, t0)
	send(t, b, AppData, 0, t0)
	send(t, b, AppData, 1, t0)
	ack(t, b, AppData, t0.Add(10*ms), AckRange{0, 1})
	if a.BytesInFlight() != 1200 || b.BytesInFlight() != 0 || a.RTT().HasSample() {
		t.Fatal("paths share state")
	}
	if b.Congestion() == a.Congestion() {
		t.Fatal("shared controller")
	}
}

func TestNonAckElicitingDoesNotSampleRTT(t *testing.T) {
	p := confirmedPath(t, 0)
	if err := p.OnPacketSent(AppData, SentPacket[int]{Number: 0, TimeSent: t0, Size: 50}); err != nil {
		t.Fatal(err)
	}
	if p.BytesInFlight() != 0 || p.LossTimer().Kind != TimerNone {
		t.Fatal("ACK-only packet counted in flight")
	}
	res := ack(t, p, AppData, t0.Add(10*ms), AckRange{0, 0})
	if len(res.Acked) != 1 || res.RTTUpdated {
		t.Fatalf("acked %d rtt %v", len(res.Acked), res.RTTUpdated)
	}
}

func TestPacingAndCanSend(t *testing.T) {
	p := confirmedPath(t, 100*ms)
	pn := uint64(0)
	for p.CanSend(AppData) {
		send(t, p, AppData, pn, t0)
		pn++
	}
	if pn != 10 {
		t.Fatalf("sent %d packets in the initial window", pn)
	}
	if d := p.PacingDelay(t0, 1200); d <= 0 {
		t.Fatalf("no pacing delay after a burst: %v", d)
	}
	if p.ProbeTimeout() != 100*ms+200*ms+25*ms {
		t.Fatalf("probe timeout %v", p.ProbeTimeout())
	}
}
