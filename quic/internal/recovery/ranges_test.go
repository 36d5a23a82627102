package recovery

import "testing"

func TestRangeSetMergeAndRemove(t *testing.T) {
	s := rangeSet{limit: 10}
	for _, pn := range []uint64{10, 12, 11, 14, 20, 16, 15, 13} {
		s.insert(pn)
	}
	if got := s.appendDescending(nil); !sameRanges(got, []AckRange{{20, 20}, {10, 16}}) {
		t.Fatalf("ranges %v", got)
	}
	s.removeUpTo(12)
	if got := s.appendDescending(nil); !sameRanges(got, []AckRange{{20, 20}, {13, 16}}) {
		t.Fatalf("after removeUpTo(12): %v", got)
	}
	s.removeUpTo(16)
	if got := s.appendDescending(nil); !sameRanges(got, []AckRange{{20, 20}}) {
		t.Fatalf("after removeUpTo(16): %v", got)
	}
	s.removeUpTo(100)
	if !s.empty() || s.contains(20) {
		t.Fatal("not empty")
	}
	s.insert(5)
	if !s.contains(5) || s.contains(4) || s.contains(6) {
		t.Fatal("contains after reuse")
	}
}

// An ACK tracker starts with room for a few ranges and grows to its limit.
func TestRangeSetGrowsToLimit(t *testing.T) {
	s := rangeSet{limit: DefaultMaxAckRanges}
	s.insert(0)
	if cap(s.r) != initialRanges {
		t.Fatalf("initial capacity %d", cap(s.r))
	}
	for pn := uint64(2); pn < 400; pn += 2 {
		s.insert(pn)
	}
	if len(s.r) != DefaultMaxAckRanges || s.r[len(s.r)-1] != (AckRange{398, 398}) {
		t.Fatalf("%d ranges, newest %+v", len(s.r), s.r[len(s.r)-1])
	}
}
