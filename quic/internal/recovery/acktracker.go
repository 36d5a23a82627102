package recovery

import "time"

// ECN is the ECN codepoint a packet arrived with.
type ECN uint8

// ECN codepoints (RFC 3168).
const (
	ECNNotECT ECN = iota
	ECNECT1
	ECNECT0
	ECNCE
)

// ECNCounts are the cumulative counters of an ACK_ECN frame.
type ECNCounts struct {
	ECT0, ECT1, CE uint64
}

// DefaultAckElicitingThreshold is how many ack-eliciting packets may arrive
// before an ACK must be sent without waiting for max_ack_delay
// (RFC 9000 §13.2.2: at least every second one).
const DefaultAckElicitingThreshold = 2

// AckTracker records the packet numbers received in one packet-number space
// and decides when an ACK frame is due (RFC 9000 §13.2).
type AckTracker struct {
	ranges rangeSet

	// minTracked: every packet below it counts as already received. It moves
	// up when ranges are forgotten (ACK of our ACK, or the range cap), which
	// RFC 9000 §13.2.3 allows instead of remembering old ranges forever.
	minTracked uint64

	hasReceived       bool
	largestReceived   uint64
	largestReceivedAt time.Time

	hasAckEliciting     bool
	largestAckEliciting uint64
	lastElicitingAt     time.Time // arrival of the newest ack-eliciting packet
	// twice: the ACK now owed answers a packet after a quiet spell and
	// goes out in two datagrams (OnPacketReceived).
	twice bool

	// State since the last ACK frame was sent.
	elicitingSinceAck int
	firstElicitingAt  time.Time // arrival of the first of those
	immediate         bool

	maxAckDelay time.Duration
	// delay is how long an ACK may actually wait (SetRTT): max_ack_delay,
	// or less on a short path.
	delay     time.Duration
	threshold int
	// alwaysImmediate is set for Initial and Handshake, whose ACKs must not
	// be delayed.
	alwaysImmediate bool

	ecn ECNCounts
}

// NewAckTracker returns a tracker. maxAckDelay is our own max_ack_delay;
// threshold is the ack-eliciting packet count that forces an ACK; maxRanges
// caps the remembered ranges. Zero values select the defaults.
func NewAckTracker(maxAckDelay time.Duration, threshold, maxRanges int, immediate bool) *AckTracker {
	t := &AckTracker{}
	t.init(maxAckDelay, threshold, maxRanges, immediate)
	return t
}

func (t *AckTracker) init(maxAckDelay time.Duration, threshold, maxRanges int, immediate bool) {
	if maxAckDelay <= 0 {
		maxAckDelay = LocalMaxAckDelay
	}
	if threshold <= 0 {
		threshold = DefaultAckElicitingThreshold
	}
	if maxRanges <= 0 {
		maxRanges = DefaultMaxAckRanges
	}
	*t = AckTracker{
		maxAckDelay:     maxAckDelay,
		delay:           maxAckDelay,
		threshold:       threshold,
		alwaysImmediate: immediate,
		ranges:          rangeSet{limit: maxRanges},
	}
}

// IsDuplicate reports whether pn was already received (or is too old to
// tell, which RFC 9000 §13.2.3 lets us treat the same way). Call it before
// processing a packet's frames.
func (t *AckTracker) IsDuplicate(pn uint64) bool {
	return pn < t.minTracked || t.ranges.contains(pn)
}

// OnPacketReceived records an authenticated packet. It returns false, and
// changes nothing, for a duplicate.
func (t *AckTracker) OnPacketReceived(pn uint64, ackEliciting bool, ecn ECN, now time.Time) bool {
	if t.IsDuplicate(pn) {
		return false
	}
	outOfOrder := ackEliciting && t.hasAckEliciting && t.reordered(pn)

	if dropped, ok := t.ranges.insert(pn); ok {
		t.minTracked = max(t.minTracked, dropped.Largest+1)
	}
	if !t.hasReceived || pn > t.largestReceived {
		t.hasReceived = true
		t.largestReceived, t.largestReceivedAt = pn, now
	}
	switch ecn {
	case ECNECT0:
		t.ecn.ECT0++
	case ECNECT1:
		t.ecn.ECT1++
	case ECNCE:
		t.ecn.CE++
		// The sender needs CE marks promptly to react (RFC 9000 §13.2.1).
		t.immediate = true
	}
	if !ackEliciting {
		return true
	}
	if !t.hasAckEliciting || pn > t.largestAckEliciting {
		t.hasAckEliciting, t.largestAckEliciting = true, pn
	}
	if t.elicitingSinceAck == 0 {
		t.firstElicitingAt = now
	}
	// After a quiet spell the sender is probing (a PTO) or starting
	// again: acknowledge at once, so each of its probes draws an ACK of
	// its own, and send that ACK twice: on a lossy path every lost answer
	// to a probe costs the sender another, doubled, PTO (at 30 % loss the
	// chance of a second PTO after a first halves). Holding the ACK back
	// would save nothing when no second packet follows within the delay.
	quiet := !t.lastElicitingAt.IsZero() && now.Sub(t.lastElicitingAt) > t.delay
	t.lastElicitingAt = now
	t.twice = t.twice || quiet
	t.elicitingSinceAck++
	if t.alwaysImmediate || outOfOrder || quiet || t.elicitingSinceAck >= t.threshold {
		t.immediate = true
	}
	return true
}

// reordered applies RFC 9000 §13.2.1: pn is older than an ack-eliciting
// packet already received, or newer with a gap of missing packets before it.
func (t *AckTracker) reordered(pn uint64) bool {
	if pn < t.largestAckEliciting {
		return true
	}
	if pn == t.largestAckEliciting+1 {
		return false
	}
	// Every number between must have arrived (ack-eliciting or not);
	// numbers below minTracked count as arrived.
	lo := max(t.largestAckEliciting+1, t.minTracked)
	if lo >= pn {
		return false
	}
	i := t.ranges.firstEndingAtOrAfter(lo)
	covered := i < len(t.ranges.r) && t.ranges.r[i].Smallest <= lo && t.ranges.r[i].Largest >= pn-1
	return !covered
}

// SetRTT shortens the ACK delay to a quarter of the smoothed RTT when
// that is below max_ack_delay (never below kGranularity): on a LAN path
// a 25 ms delay is hundreds of round trips in which the sender cannot
// learn of a loss, and sending sooner is always allowed (RFC 9000
// §13.2.1 only bounds the delay).
func (t *AckTracker) SetRTT(smoothed time.Duration) {
	t.delay = min(t.maxAckDelay, max(smoothed/4, Granularity))
}

// RequestImmediateAck makes the next ACK due now (IMMEDIATE_ACK frame, or
// the caller's own policy).
func (t *AckTracker) RequestImmediateAck() {
	if !t.ranges.empty() {
		t.immediate = true
	}
}

// Pending reports whether ack-eliciting packets await acknowledgement.
func (t *AckTracker) Pending() bool {
	return t.elicitingSinceAck > 0 || (t.immediate && !t.ranges.empty())
}

// HasRanges reports whether an ACK frame would have anything to report;
// the caller may piggyback ACKs on packets it sends anyway.
func (t *AckTracker) HasRanges() bool { return !t.ranges.empty() }

// Deadline returns when an ACK must be sent, or the zero time if none is
// due. An immediately required ACK has a deadline in the past.
func (t *AckTracker) Deadline() time.Time {
	switch {
	case !t.Pending():
		return time.Time{}
	case t.immediate:
		if t.firstElicitingAt.IsZero() {
			return t.largestReceivedAt
		}
		return t.firstElicitingAt
	default:
		return t.firstElicitingAt.Add(t.delay)
	}
}

// ShouldSendAck reports whether an ACK-only packet is warranted now.
func (t *AckTracker) ShouldSendAck(now time.Time) bool {
	d := t.Deadline()
	return !d.IsZero() && !now.Before(d)
}

// AppendRanges appends the ranges to acknowledge, largest first, as an ACK
// frame encodes them.
func (t *AckTracker) AppendRanges(dst []AckRange) []AckRange {
	return t.ranges.appendDescending(dst)
}

// LargestReceived returns the largest packet number received, if any.
func (t *AckTracker) LargestReceived() (uint64, bool) {
	return t.largestReceived, t.hasReceived
}

// AckDelay is the time since the largest packet was received, to put in the
// ACK frame's delay field.
func (t *AckTracker) AckDelay(now time.Time) time.Duration {
	if !t.hasReceived || now.Before(t.largestReceivedAt) {
		return 0
	}
	return now.Sub(t.largestReceivedAt)
}

// ECNCounts returns the counters for an ACK_ECN frame.
func (t *AckTracker) ECNCounts() ECNCounts { return t.ecn }

// OnAckSent tells the tracker an ACK frame with the current ranges was
// sent. It returns the frame's Largest Acknowledged, which the caller keeps
// with the packet so that OnAckAcked can be called when that packet is
// acknowledged.
func (t *AckTracker) OnAckSent() uint64 {
	t.elicitingSinceAck = 0
	t.firstElicitingAt = time.Time{}
	t.immediate, t.twice = t.twice, false // a second copy is due at once
	return t.largestReceived
}

// OnAckAcked forgets everything at or below largest, the Largest
// Acknowledged of one of our ACK frames the peer has now acknowledged
// (RFC 9000 §13.2.4). Packets at or below it are then treated as
// duplicates.
func (t *AckTracker) OnAckAcked(largest uint64) {
	if largest < t.minTracked {
		return
	}
	t.ranges.removeUpTo(largest)
	t.minTracked = largest + 1
	if t.ranges.empty() {
		// What made an ACK due (a reordered packet below largest, say)
		// is forgotten with its range: a deadline left behind would have
		// nothing to acknowledge and stay in the past for good.
		t.elicitingSinceAck, t.firstElicitingAt = 0, time.Time{}
		t.immediate, t.twice = false, false
	}
}

// reset forgets everything (space discarded).
func (t *AckTracker) reset() {
	t.init(t.maxAckDelay, t.threshold, t.ranges.limit, t.alwaysImmediate)
}
