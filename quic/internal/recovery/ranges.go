package recovery

// AckRange is an inclusive range of packet numbers, as in an ACK frame.
type AckRange struct {
	Smallest uint64
	Largest  uint64
}

// DefaultMaxAckRanges caps the ranges we remember and report. noq uses 64,
// which keeps any ACK frame well inside a 1200-byte packet.
const DefaultMaxAckRanges = 64

// initialRanges is the starting capacity of a rangeSet.
const initialRanges = 4

// rangeSet is a set of packet numbers stored as sorted, disjoint,
// non-adjacent ranges (ascending). It holds at most limit ranges; inserting
// beyond that drops the oldest range.
type rangeSet struct {
	r     []AckRange
	limit int
}

func (s *rangeSet) empty() bool { return len(s.r) == 0 }

// contains reports whether pn is in the set.
func (s *rangeSet) contains(pn uint64) bool {
	i := s.firstEndingAtOrAfter(pn)
	return i < len(s.r) && s.r[i].Smallest <= pn
}

// firstEndingAtOrAfter returns the index of the first range whose Largest
// is at least pn.
func (s *rangeSet) firstEndingAtOrAfter(pn uint64) int {
	lo, hi := 0, len(s.r)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.r[mid].Largest < pn {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// insert adds pn. It reports the range dropped to respect the limit, if
// any.
func (s *rangeSet) insert(pn uint64) (dropped AckRange, didDrop bool) {
	if s.r == nil {
		// Most connections see few gaps; append grows the set when needed.
		s.r = make([]AckRange, 0, initialRanges)
	}
	n := len(s.r)
	// Fast path: in-order arrival extends or follows the newest range.
	if n > 0 && pn >= s.r[n-1].Smallest {
		last := &s.r[n-1]
		switch {
		case pn <= last.Largest:
			return AckRange{}, false
		case pn == last.Largest+1:
			last.Largest = pn
			return AckRange{}, false
		}
		s.r = append(s.r, AckRange{pn, pn})
		return s.enforceLimit()
	}
	i := s.firstEndingAtOrAfter(pn)
	// pn-1 < s.r[i].Largest here unless i == n.
	if i < n && s.r[i].Smallest <= pn {
		return AckRange{}, false
	}
	joinsNext := i < n && s.r[i].Smallest == pn+1
	joinsPrev := i > 0 && s.r[i-1].Largest+1 == pn
	switch {
	case joinsPrev && joinsNext:
		s.r[i-1].Largest = s.r[i].Largest
		s.r = append(s.r[:i], s.r[i+1:]...)
	case joinsPrev:
		s.r[i-1].Largest = pn
	case joinsNext:
		s.r[i].Smallest = pn
	default:
		s.r = append(s.r, AckRange{})
		copy(s.r[i+1:], s.r[i:])
		s.r[i] = AckRange{pn, pn}
		return s.enforceLimit()
	}
	return AckRange{}, false
}

func (s *rangeSet) enforceLimit() (AckRange, bool) {
	if s.limit <= 0 || len(s.r) <= s.limit {
		return AckRange{}, false
	}
	dropped := s.r[0]
	copy(s.r, s.r[1:])
	s.r = s.r[:len(s.r)-1]
	return dropped, true
}

// removeUpTo drops every packet number at or below pn.
func (s *rangeSet) removeUpTo(pn uint64) {
	i := s.firstEndingAtOrAfter(pn)
	if i < len(s.r) && s.r[i].Smallest <= pn {
		if s.r[i].Largest == pn {
			i++
		} else {
			s.r[i].Smallest = pn + 1
		}
	}
	if i > 0 {
		s.r = s.r[:copy(s.r, s.r[i:])]
	}
}

// appendDescending appends the ranges largest first, the order an ACK
// frame encodes them in.
func (s *rangeSet) appendDescending(dst []AckRange) []AckRange {
	for i := len(s.r) - 1; i >= 0; i-- {
		dst = append(dst, s.r[i])
	}
	return dst
}
