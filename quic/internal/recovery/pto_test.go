package recovery

import "testing"

// TestHandshakeProbeWhileOnlyAppDataInFlight: the client's Finished was
// lost and 1-RTT data fills the window before the handshake is confirmed.
// RFC 9002 §A.8 arms no PTO then (1-RTT is not probed yet, and nothing is
// in flight in Handshake), so the lost Finished would wait behind the
// window forever. A Handshake-space PTO must be armed instead, and its
// probes must ignore the window.
func TestHandshakeProbeWhileOnlyAppDataInFlight(t *testing.T) {
	p := NewPath[int](Config{})
	p.DiscardSpace(Initial, t0)
	p.SetHandshakeKeys(t0)
	send(t, p, Handshake, 0, t0) // the Finished
	for pn := uint64(0); pn < 10; pn++ {
		send(t, p, AppData, pn, t0)
	}
	// A later Handshake packet is acknowledged long after: 0 is lost.
	send(t, p, Handshake, 1, t0.Add(10*ms))
	send(t, p, Handshake, 2, t0.Add(10*ms))
	send(t, p, Handshake, 3, t0.Add(10*ms))
	res := ack(t, p, Handshake, t0.Add(100*ms), AckRange{1, 3})
	if !equal(numbers(res.Lost), []uint64{0}) {
		t.Fatalf("lost %v", numbers(res.Lost))
	}
	if p.CanSend(Handshake) {
		t.Fatalf("window %d should be full with %d in flight", p.Congestion().Window(), p.BytesInFlight())
	}
	tm := p.LossTimer()
	if tm.Kind != TimerPTO || tm.Space != Handshake {
		t.Fatalf("timer %+v, want a Handshake PTO", tm)
	}
	if want := t0.Add(p.RTT().PTO()); !tm.At.Equal(want) {
		t.Fatalf("PTO at %v, want %v (last 1-RTT send + PTO)", tm.At.Sub(t0), want.Sub(t0))
	}
	r := p.OnTimeout(tm.At)
	if r.Kind != TimerPTO || r.Space != Handshake || r.Probes != 2 || !p.CanSend(Handshake) {
		t.Fatalf("timeout %+v, can send %v", r, p.CanSend(Handshake))
	}
	// Once confirmed, 1-RTT data has its own PTO again.
	p.DiscardSpace(Handshake, tm.At)
	p.SetHandshakeConfirmed(tm.At)
	if tm := p.LossTimer(); tm.Kind != TimerPTO || tm.Space != AppData {
		t.Fatalf("timer after confirmation %+v", tm)
	}
}

// TestNoHandshakeProbeWithoutHandshakeLoss: our Handshake packets were all
// acknowledged, only 1-RTT data is in flight before confirmation. The peer
// may have dropped its Handshake keys already; probing there would only
// back off. No PTO until HANDSHAKE_DONE confirms the handshake (RFC 9002).
func TestNoHandshakeProbeWithoutHandshakeLoss(t *testing.T) {
	p := NewPath[int](Config{})
	p.DiscardSpace(Initial, t0)
	p.SetHandshakeKeys(t0)
	send(t, p, Handshake, 0, t0)
	send(t, p, AppData, 0, t0)
	ack(t, p, Handshake, t0.Add(50*ms), AckRange{0, 0})
	if tm := p.LossTimer(); tm.Kind != TimerNone {
		t.Fatalf("timer %+v, want none", tm)
	}
}
