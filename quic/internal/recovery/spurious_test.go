package recovery

import (
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/congestion"
)

// TestSpuriousLossUndoesAndRaisesThreshold: packet 0 is overtaken by nine
// others and declared lost (packet threshold); its late ACK proves the
// loss spurious, so the window comes back and the packet threshold grows
// past the gap: the same reordering next time is no loss.
func TestSpuriousLossUndoesAndRaisesThreshold(t *testing.T) {
	p := confirmedPath(t, 50*ms)
	for pn := uint64(0); pn < 10; pn++ {
		send(t, p, AppData, pn, t0)
	}
	before := p.Congestion().Window()
	res := ack(t, p, AppData, t0.Add(50*ms), AckRange{1, 9})
	if !equal(numbers(res.Lost), []uint64{0}) || p.Congestion().Window() >= before {
		t.Fatalf("lost %v window %d", numbers(res.Lost), p.Congestion().Window())
	}
	ack(t, p, AppData, t0.Add(51*ms), AckRange{0, 9})
	if p.Congestion().Window() != before {
		t.Fatalf("window %d after the spurious loss, want %d back", p.Congestion().Window(), before)
	}
	if got := p.spaces[AppData].reorderThreshold(); got != 10 {
		t.Fatalf("packet threshold %d, want 10", got)
	}
	at := t0.Add(60 * ms)
	for pn := uint64(10); pn < 20; pn++ {
		send(t, p, AppData, pn, at)
	}
	if res := ack(t, p, AppData, at.Add(50*ms), AckRange{11, 19}); len(res.Lost) != 0 {
		t.Fatalf("reordered by 9 again and declared lost: %v", numbers(res.Lost))
	}
}

// TestRealLossKeepsTheReduction: two packets are lost in one reduction;
// only one of them turns up later, so the reduction stands.
func TestRealLossKeepsTheReduction(t *testing.T) {
	p := NewPath[int](Config{AppDataOnly: true, Congestion: congestion.NewNewReno(1200)})
	p.rtt.Update(t0, 50*ms, 0, 0, true)
	for pn := uint64(0); pn < 10; pn++ {
		send(t, p, AppData, pn, t0)
	}
	res := ack(t, p, AppData, t0.Add(50*ms), AckRange{3, 9})
	if !equal(numbers(res.Lost), []uint64{0, 1, 2}) {
		t.Fatalf("lost %v", numbers(res.Lost))
	}
	reduced := p.Congestion().Window()
	ack(t, p, AppData, t0.Add(51*ms), AckRange{3, 9}, AckRange{0, 1})
	if p.Congestion().Window() != reduced {
		t.Fatalf("window %d: a reduction with a real loss (2) was undone", p.Congestion().Window())
	}
}

// TestLateAckAfterTheWindowIsNoUndo: an ACK of a packet declared lost
// long ago (beyond spuriousWindow round trips) no longer undoes anything.
func TestLateAckAfterTheWindowIsNoUndo(t *testing.T) {
	p := confirmedPath(t, 50*ms)
	for pn := uint64(0); pn < 10; pn++ {
		send(t, p, AppData, pn, t0)
	}
	ack(t, p, AppData, t0.Add(50*ms), AckRange{1, 9})
	reduced := p.Congestion().Window()
	late := t0.Add(50*ms + spuriousWindow*p.RTT().Smoothed() + DefaultMaxAckDelay + ms)
	ack(t, p, AppData, late, AckRange{0, 9})
	if p.Congestion().Window() != reduced || p.spaces[AppData].reorderThreshold() != packetThreshold {
		t.Fatalf("window %d threshold %d after a late ACK", p.Congestion().Window(), p.spaces[AppData].reorderThreshold())
	}
}
