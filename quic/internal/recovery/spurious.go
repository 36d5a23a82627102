package recovery

import "time"

// A loss is spurious when the packet declared lost is acknowledged after
// all: it was only overtaken (reordering), so the congestion window was
// cut for nothing and the packet threshold is too small for this path.
// RFC 9002 §6.1.1 lets the threshold adapt; RFC 9438 §4.9 undoes the cut.

// maxReorderThreshold caps the adapted packet threshold: beyond it the
// time threshold decides alone.
const maxReorderThreshold = 20

// declaredLost is one packet recently declared lost.
type declaredLost struct {
	pn    uint64
	gap   uint64    // largest acknowledged minus pn when it was declared
	at    time.Time // when it was declared
	event uint32    // the congestion reduction it belongs to
	space Space
	valid bool
}

// spuriousWindow is how long after declaring a loss, in smoothed RTTs
// (plus the peer's ACK delay), a late ACK can still prove it spurious: a
// reordered packet arrives within about a round trip.
const spuriousWindow = 4

// spuriousLosses remembers the packets recently declared lost and the
// newest congestion reduction: how many losses are behind it and how many
// of those were acknowledged after all.
type spuriousLosses struct {
	recent [32]declaredLost
	next   int
	live   int // valid entries: with none, an ACK costs no scan

	event    uint32
	lost     int
	refuted  int
	undoable bool // no persistent congestion and no undo since the reduction
}

// newEvent starts a congestion reduction.
func (s *spuriousLosses) newEvent() {
	s.event++
	s.lost, s.refuted, s.undoable = 0, 0, true
}

// declare records a lost in-flight packet; it belongs to the current
// reduction, which a loss during its recovery period did not repeat.
func (s *spuriousLosses) declare(space Space, pn, largestAcked uint64, now time.Time) {
	if !s.recent[s.next].valid {
		s.live++
	}
	s.recent[s.next] = declaredLost{pn: pn, gap: largestAcked - pn, at: now, event: s.event, space: space, valid: true}
	s.next = (s.next + 1) % len(s.recent)
	s.lost++
}

// onAck forgets the declared losses the ranges acknowledge, and those
// older than window. It reports how many were acknowledged, the largest
// reordering gap among them, and whether the whole current reduction
// proved spurious.
func (s *spuriousLosses) onAck(space Space, ranges []AckRange, now time.Time, window time.Duration) (refuted int, gap uint64, undo bool) {
	for i := 0; i < len(s.recent) && s.live > 0; i++ {
		d := &s.recent[i]
		if !d.valid {
			continue
		}
		if now.Sub(d.at) > window {
			d.valid = false
			s.live--
			continue
		}
		if d.space != space || !covers(ranges, d.pn) {
			continue
		}
		d.valid = false
		s.live--
		refuted++
		gap = max(gap, d.gap)
		if d.event == s.event {
			s.refuted++
		}
	}
	undo = refuted > 0 && s.undoable && s.lost > 0 && s.refuted == s.lost
	if undo {
		s.undoable = false
	}
	return refuted, gap, undo
}

// reorderThreshold is the packet threshold of a space: kPacketThreshold,
// or the reordering this path has shown.
func (sp *spaceState[T]) reorderThreshold() uint64 {
	return max(packetThreshold, sp.reorder)
}

// onRefuted raises the packet threshold past a reordering gap just seen.
func (sp *spaceState[T]) onRefuted(gap uint64) {
	sp.reorder = min(max(sp.reorder, gap+1), maxReorderThreshold)
}
