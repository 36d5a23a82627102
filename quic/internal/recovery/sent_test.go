package recovery

import "testing"

func pushN(h *sentHistory[int], from, to uint64) {
	for pn := from; pn < to; pn++ {
		h.push(SentPacket[int]{Number: pn, InFlight: true, AckEliciting: true, Size: 100, Payload: int(pn)})
	}
}

func settleAll(h *sentHistory[int]) {
	for i := 0; i < h.len(); i++ {
		if e := h.at(i); e.state == stateOutstanding {
			h.settle(e, stateAcked)
		}
	}
	h.trim()
}

// The ring starts small and doubles with the packets in flight; partial
// acknowledgements keep order and counts.
func TestSentHistoryGrows(t *testing.T) {
	var h sentHistory[int]
	pushN(&h, 0, 1)
	if len(h.buf) != minSentRing {
		t.Fatalf("first ring has %d entries, want %d", len(h.buf), minSentRing)
	}
	pushN(&h, 1, 100)
	if len(h.buf) != 128 {
		t.Fatalf("ring of %d entries for 100 packets", len(h.buf))
	}
	for i := 0; i < 97; i++ {
		h.settle(h.at(i), stateAcked)
	}
	h.trim()
	if h.len() != 3 || len(h.buf) != 128 {
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

// A ring that fills between empties (a bulk sender) keeps its size; after
// a few small rounds in a row (a quiet connection's PINGs) it shrinks to fit.
func TestSentHistoryShrinksWhenQuiet(t *testing.T) {
	var h sentHistory[int]
	pn := uint64(0)
	round := func(n uint64) {
		pushN(&h, pn, pn+n)
		pn += n
		settleAll(&h)
	}
	round(100)
	if len(h.buf) != 128 {
		t.Fatalf("busy ring shrank to %d", len(h.buf))
	}
	for range quietRounds - 1 {
		round(30)
	}
	round(100) // a busy round in between starts the count again
	for range quietRounds - 1 {
		round(2)
	}
	if len(h.buf) != 128 {
		t.Fatalf("ring shrank to %d before %d quiet rounds", len(h.buf), quietRounds)
	}
	round(1)
	if len(h.buf) != minSentRing || h.len() != 0 {
		t.Fatalf("quiet ring %d, %d packets", len(h.buf), h.len())
	}
	pushN(&h, pn, pn+9)
	if h.len() != 9 || h.at(8).pkt.Number != pn+8 {
		t.Fatalf("regrown ring: %d packets", h.len())
	}
}
