package recovery

import "testing"

// The ring starts small, doubles with the packets in flight, and shrinks
// back once they are settled, so an idle connection holds a few entries.
func TestSentHistoryGrowsAndShrinks(t *testing.T) {
	var h sentHistory[int]
	h.push(SentPacket[int]{Number: 0, InFlight: true, AckEliciting: true, Size: 100})
	if len(h.buf) != minSentRing {
		t.Fatalf("first ring has %d entries, want %d", len(h.buf), minSentRing)
	}
	for pn := uint64(1); pn < 100; pn++ {
		h.push(SentPacket[int]{Number: pn, InFlight: true, AckEliciting: true, Size: 100, Payload: int(pn)})
	}
	if len(h.buf) != 128 {
		t.Fatalf("ring of %d entries for 100 packets", len(h.buf))
	}
	// Settle all but the last three: the ring shrinks, keeping order.
	for i := 0; i < 97; i++ {
		h.settle(h.at(i), stateAcked)
	}
	h.trim()
	if h.len() != 3 || len(h.buf) != minSentRing {
		t.Fatalf("after trim: %d packets in a ring of %d", h.len(), len(h.buf))
	}
	for i := range 3 {
		if e := h.at(i); e.pkt.Number != uint64(97+i) || e.pkt.Payload != 97+i || e.state != stateOutstanding {
			t.Fatalf("entry %d = %+v", i, e)
		}
	}
	if h.bytesInFlight != 300 || h.ackElicitingInFlight != 3 {
		t.Fatalf("in flight: %d bytes, %d ack-eliciting", h.bytesInFlight, h.ackElicitingInFlight)
	}
	if got := h.search(98); got != 1 {
		t.Fatalf("search(98) = %d", got)
	}
	var kept []uint64
	h.clear(func(p SentPacket[int]) { kept = append(kept, p.Number) })
	if len(kept) != 3 || h.buf != nil || h.len() != 0 {
		t.Fatalf("clear kept %v, ring %d", kept, len(h.buf))
	}
}

// A ring that is about a quarter full keeps its size: shrinking leaves room
// to double before it must grow again.
func TestSentHistoryShrinkHysteresis(t *testing.T) {
	var h sentHistory[int]
	for pn := range uint64(64) {
		h.push(SentPacket[int]{Number: pn})
	}
	for i := 0; i < 47; i++ {
		h.settle(h.at(i), stateAcked)
	}
	h.trim() // 17 left of 64: above a quarter
	if len(h.buf) != 64 {
		t.Fatalf("ring shrank to %d with 17 of 64 in use", len(h.buf))
	}
	h.settle(h.at(0), stateAcked)
	h.trim() // 16 left: a quarter
	if len(h.buf) != 32 || h.len() != 16 {
		t.Fatalf("ring %d, %d packets", len(h.buf), h.len())
	}
}
