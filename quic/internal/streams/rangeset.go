package streams

import "sort"

// span is a half-open byte range [start, end).
type span struct{ start, end uint64 }

// rangeSet is a sorted list of disjoint, non-adjacent spans. It backs the
// reassembly map, the acked ranges and the lost ranges of a send buffer.
type rangeSet []span

// add inserts [start, end), merging with overlapping or adjacent spans.
func (r *rangeSet) add(start, end uint64) {
	if start >= end {
		return
	}
	s := *r
	// Fast path: appending after the last span, the common in-order case.
	if n := len(s); n == 0 || s[n-1].end < start {
		*r = append(s, span{start, end})
		return
	} else if s[n-1].start <= start {
		s[n-1].end = max(s[n-1].end, end)
		return
	}
	// i: first span whose end >= start (may touch); j: first span whose
	// start > end (cannot touch).
	i := sort.Search(len(s), func(k int) bool { return s[k].end >= start })
	j := sort.Search(len(s), func(k int) bool { return s[k].start > end })
	if i == j {
		s = append(s, span{})
		copy(s[i+1:], s[i:])
		s[i] = span{start, end}
		*r = s
		return
	}
	merged := span{min(start, s[i].start), max(end, s[j-1].end)}
	s[i] = merged
	s = append(s[:i+1], s[j:]...)
	*r = s
}

// remove deletes [start, end) from the set.
func (r *rangeSet) remove(start, end uint64) {
	if start >= end {
		return
	}
	s := *r
	i := sort.Search(len(s), func(k int) bool { return s[k].end > start })
	j := sort.Search(len(s), func(k int) bool { return s[k].start >= end })
	if i >= j {
		return
	}
	var keep [2]span
	n := 0
	if s[i].start < start {
		keep[n] = span{s[i].start, start}
		n++
	}
	if s[j-1].end > end {
		keep[n] = span{end, s[j-1].end}
		n++
	}
	tail := len(s) - j
	newLen := i + n + tail
	if newLen > len(s) { // one span split into two
		s = append(s, span{})
	}
	copy(s[i+n:], s[j:j+tail])
	copy(s[i:], keep[:n])
	*r = s[:newLen]
}

// removeBelow deletes everything below off.
func (r *rangeSet) removeBelow(off uint64) {
	s := *r
	if len(s) == 0 || s[0].start >= off {
		return
	}
	r.remove(0, off)
}

// contains reports whether every byte of [start, end) is in the set.
func (r rangeSet) contains(start, end uint64) bool {
	if start >= end {
		return true
	}
	i := sort.Search(len(r), func(k int) bool { return r[k].end > start })
	return i < len(r) && r[i].start <= start && r[i].end >= end
}

// popFront removes the first span, keeping the backing array for reuse.
func (r *rangeSet) popFront() {
	s := *r
	n := copy(s, s[1:])
	*r = s[:n]
}
