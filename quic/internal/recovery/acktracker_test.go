package recovery

import (
	"testing"
	"time"
)

func ranges(tr *AckTracker) []AckRange { return tr.AppendRanges(nil) }

func sameRanges(a, b []AckRange) bool {
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

func TestAckRangesAfterReordering(t *testing.T) {
	tr := NewAckTracker(0, 0, 0, false)
	for _, pn := range []uint64{0, 1, 5, 3, 9, 4, 8, 2} {
		tr.OnPacketReceived(pn, true, ECNNotECT, t0)
	}
	want := []AckRange{{8, 9}, {0, 5}}
	if got := ranges(tr); !sameRanges(got, want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	if l, ok := tr.LargestReceived(); !ok || l != 9 {
		t.Fatalf("largest %d", l)
	}
}

func TestAckDuplicates(t *testing.T) {
	tr := NewAckTracker(0, 0, 0, false)
	if !tr.OnPacketReceived(7, true, ECNNotECT, t0) {
		t.Fatal("first receipt reported duplicate")
	}
	if !tr.IsDuplicate(7) || tr.IsDuplicate(6) || tr.IsDuplicate(8) {
		t.Fatal("IsDuplicate wrong")
	}
	if tr.OnPacketReceived(7, true, ECNNotECT, t0.Add(ms)) {
		t.Fatal("duplicate accepted")
	}
	// The duplicate neither moved the receive time nor counted.
	if tr.AckDelay(t0.Add(10*ms)) != 10*ms {
		t.Fatal("duplicate changed largest receive time")
	}
}

func TestAckRangeCapDropsOldest(t *testing.T) {
	tr := NewAckTracker(0, 0, 3, false)
	for _, pn := range []uint64{0, 2, 4, 6, 8} {
		tr.OnPacketReceived(pn, true, ECNNotECT, t0)
	}
	want := []AckRange{{8, 8}, {6, 6}, {4, 4}}
	if got := ranges(tr); !sameRanges(got, want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	// Numbers up to the dropped ranges now count as duplicates.
	if !tr.IsDuplicate(1) || !tr.IsDuplicate(2) || tr.IsDuplicate(3) || tr.IsDuplicate(5) {
		t.Fatal("forgotten numbers not treated as duplicates")
	}
	// Filling a gap merges ranges, making room again.
	tr.OnPacketReceived(5, true, ECNNotECT, t0)
	want = []AckRange{{8, 8}, {4, 6}}
	if got := ranges(tr); !sameRanges(got, want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
}

func TestAckEveryOtherPacketOrMaxAckDelay(t *testing.T) {
	tr := NewAckTracker(25*ms, 0, 0, false)
	tr.OnPacketReceived(0, true, ECNNotECT, t0)
	if tr.ShouldSendAck(t0) || !tr.Deadline().Equal(t0.Add(25*ms)) {
		t.Fatalf("one packet: immediate %v deadline %v", tr.ShouldSendAck(t0), tr.Deadline())
	}
	if !tr.ShouldSendAck(t0.Add(25 * ms)) {
		t.Fatal("max_ack_delay elapsed but no ACK due")
	}
	tr.OnPacketReceived(1, true, ECNNotECT, t0.Add(ms))
	if !tr.ShouldSendAck(t0.Add(ms)) {
		t.Fatal("second ack-eliciting packet did not force an ACK")
	}
	if l := tr.OnAckSent(); l != 1 {
		t.Fatalf("OnAckSent largest %d", l)
	}
	if tr.Pending() || !tr.Deadline().IsZero() || !tr.HasRanges() {
		t.Fatal("state after sending the ACK")
	}
	// Non-ack-eliciting packets never make an ACK due.
	tr.OnPacketReceived(2, false, ECNNotECT, t0.Add(2*ms))
	tr.OnPacketReceived(3, false, ECNNotECT, t0.Add(3*ms))
	if tr.Pending() || tr.ShouldSendAck(t0.Add(time.Hour)) {
		t.Fatal("ACK due for non-ack-eliciting packets")
	}
	// Their numbers are in the next ACK anyway.
	if got := ranges(tr); !sameRanges(got, []AckRange{{0, 3}}) {
		t.Fatalf("ranges %v", got)
	}
}

func TestImmediateAckOnReorderingAndGaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		pns  []uint64
		want bool
	}{
		{"in order", []uint64{0}, false},
		{"older than largest", []uint64{5, 4}, true},
		{"gap before new largest", []uint64{0, 2}, true},
		{"gap filled by non-eliciting", []uint64{0, 1, 2}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewAckTracker(0, 10, 0, false)
			for i, pn := range tc.pns {
				if i > 0 {
					tr.OnAckSent()
				}
				// In the last case the middle packet is not ack-eliciting.
				tr.OnPacketReceived(pn, !(tc.name == "gap filled by non-eliciting" && pn == 1), ECNNotECT, t0)
			}
			if got := tr.ShouldSendAck(t0); got != tc.want {
				t.Fatalf("immediate %v, want %v", got, tc.want)
			}
		})
	}
}

func TestImmediateAckRules(t *testing.T) {
	// Initial and Handshake: never delayed.
	tr := NewAckTracker(0, 0, 0, true)
	tr.OnPacketReceived(0, true, ECNNotECT, t0)
	if !tr.ShouldSendAck(t0) {
		t.Fatal("handshake-space ACK delayed")
	}
	// CE marks are reported at once.
	tr = NewAckTracker(0, 0, 0, false)
	tr.OnPacketReceived(0, true, ECNCE, t0)
	if !tr.ShouldSendAck(t0) || tr.ECNCounts() != (ECNCounts{CE: 1}) {
		t.Fatalf("CE: due %v counts %+v", tr.ShouldSendAck(t0), tr.ECNCounts())
	}
	// IMMEDIATE_ACK.
	tr = NewAckTracker(0, 0, 0, false)
	tr.RequestImmediateAck() // nothing received: no effect
	if tr.Pending() {
		t.Fatal("pending with nothing received")
	}
	tr.OnPacketReceived(0, true, ECNECT0, t0)
	tr.RequestImmediateAck()
	if !tr.ShouldSendAck(t0) {
		t.Fatal("IMMEDIATE_ACK ignored")
	}
}

func TestAckOfAckForgetsRanges(t *testing.T) {
	tr := NewAckTracker(0, 0, 0, false)
	for _, pn := range []uint64{0, 1, 2, 4, 5} {
		tr.OnPacketReceived(pn, true, ECNNotECT, t0)
	}
	largest := tr.OnAckSent()
	tr.OnPacketReceived(7, true, ECNNotECT, t0)
	// The peer acknowledged our ACK (largest 5): forget up to 5.
	tr.OnAckAcked(largest)
	if got := ranges(tr); !sameRanges(got, []AckRange{{7, 7}}) {
		t.Fatalf("ranges %v", got)
	}
	if !tr.IsDuplicate(3) || !tr.IsDuplicate(5) || tr.IsDuplicate(6) {
		t.Fatal("forgotten range duplicates")
	}
	// An older ACK being acknowledged later changes nothing.
	tr.OnAckAcked(1)
	if got := ranges(tr); !sameRanges(got, []AckRange{{7, 7}}) {
		t.Fatalf("ranges after stale ack-of-ack %v", got)
	}
	// Partial range removal.
	tr = NewAckTracker(0, 0, 0, false)
	for pn := range uint64(10) {
		tr.OnPacketReceived(pn, true, ECNNotECT, t0)
	}
	tr.OnAckAcked(4)
	if got := ranges(tr); !sameRanges(got, []AckRange{{5, 9}}) {
		t.Fatalf("ranges %v", got)
	}
	// A newer packet after a forgotten boundary with a gap is reordering.
	tr.OnAckSent()
	tr.OnPacketReceived(11, true, ECNNotECT, t0)
	if !tr.ShouldSendAck(t0) {
		t.Fatal("gap after forgotten ranges not detected")
	}
}

func TestAckDelay(t *testing.T) {
	tr := NewAckTracker(0, 0, 0, false)
	if tr.AckDelay(t0) != 0 {
		t.Fatal("delay with nothing received")
	}
	tr.OnPacketReceived(3, true, ECNNotECT, t0)
	tr.OnPacketReceived(1, true, ECNNotECT, t0.Add(5*ms)) // not the largest
	if d := tr.AckDelay(t0.Add(7 * ms)); d != 7*ms {
		t.Fatalf("ack delay %v, want 7ms from the largest", d)
	}
	if tr.AckDelay(t0.Add(-ms)) != 0 {
		t.Fatal("negative delay")
	}
}

func TestNextTimerIncludesAckDeadline(t *testing.T) {
	p := confirmedPath(t, 0)
	p.Acks(AppData).OnPacketReceived(0, true, ECNNotECT, t0)
	tm := p.NextTimer()
	if tm.Kind != TimerAck || tm.Space != AppData || !tm.At.Equal(t0.Add(LocalMaxAckDelay)) {
		t.Fatalf("timer %+v", tm)
	}
	send(t, p, AppData, 0, t0)
	if tm := p.NextTimer(); tm.Kind != TimerAck {
		t.Fatalf("ack deadline should precede PTO: %+v", tm)
	}
	p.Acks(AppData).OnAckSent()
	if tm := p.NextTimer(); tm.Kind != TimerPTO {
		t.Fatalf("timer %+v", tm)
	}
}

// TestImmediateAckAfterQuiet: the first ack-eliciting packet after more
// than max_ack_delay of silence (a PTO probe, or a sender starting again)
// is acknowledged at once and twice, so each of two probes draws its own
// ACK; back to back packets keep the every-other-packet rule.
func TestImmediateAckAfterQuiet(t *testing.T) {
	tr := NewAckTracker(25*ms, 0, 0, false)
	tr.OnPacketReceived(0, true, ECNNotECT, t0)
	tr.OnPacketReceived(1, true, ECNNotECT, t0.Add(ms))
	tr.OnAckSent()
	probe := t0.Add(300 * ms)
	tr.OnPacketReceived(2, true, ECNNotECT, probe)
	if !tr.ShouldSendAck(probe) {
		t.Fatal("a packet after 300 ms of silence waits for max_ack_delay")
	}
	tr.OnAckSent()
	// That ACK goes out twice, then the tracker is quiet again.
	if !tr.ShouldSendAck(probe) {
		t.Fatal("no second copy of the ACK after a quiet spell")
	}
	tr.OnAckSent()
	if tr.Pending() {
		t.Fatal("a third copy is owed")
	}
	tr.OnPacketReceived(3, true, ECNNotECT, probe)
	if tr.ShouldSendAck(probe) || !tr.Deadline().Equal(probe.Add(25*ms)) {
		t.Fatalf("the second of two back-to-back probes: due %v deadline %v", tr.ShouldSendAck(probe), tr.Deadline())
	}
	// Exactly max_ack_delay apart is not quiet.
	tr.OnAckSent()
	tr.OnPacketReceived(4, true, ECNNotECT, probe.Add(25*ms))
	if tr.ShouldSendAck(probe.Add(25 * ms)) {
		t.Fatal("25 ms gap counted as quiet")
	}
	tr.OnAckSent()
	if tr.Pending() {
		t.Fatal("an ACK without a quiet spell is owed twice")
	}
}

// TestAckDelayFollowsShortRTT: on a path with a short RTT the ACK waits a
// quarter of it (at least kGranularity), not max_ack_delay.
func TestAckDelayFollowsShortRTT(t *testing.T) {
	for _, tc := range []struct{ srtt, want time.Duration }{
		{100 * time.Microsecond, Granularity},
		{8 * ms, 2 * ms},
		{50 * ms, LocalMaxAckDelay},
	} {
		tr := NewAckTracker(0, 0, 0, false)
		tr.SetRTT(tc.srtt)
		tr.OnPacketReceived(0, true, ECNNotECT, t0)
		if got := tr.Deadline().Sub(t0); got != tc.want {
			t.Errorf("srtt %v: ACK after %v, want %v", tc.srtt, got, tc.want)
		}
	}
}

// TestAckOfOurAckClearsForgottenDue: a reordered packet below the largest
// one our last ACK reported makes an ACK due; when the peer then
// acknowledges that ACK, its range is forgotten with everything below,
// and so must the due ACK be: nothing is left to report, and a deadline
// kept in the past would never be served (fuzz seed 23c6f383b6837818:
// the connection spun at one instant).
func TestAckOfOurAckClearsForgottenDue(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tr := NewAckTracker(25*time.Millisecond, 0, 0, false)
	for _, pn := range []uint64{0, 1, 2, 4} {
		tr.OnPacketReceived(pn, true, ECNNotECT, now)
	}
	largest := tr.OnAckSent()
	tr.OnPacketReceived(3, true, ECNNotECT, now) // reordered: due at once
	if !tr.ShouldSendAck(now) {
		t.Fatal("a reordered packet did not make an ACK due")
	}
	tr.OnAckAcked(largest)
	if tr.HasRanges() || tr.Pending() || !tr.Deadline().IsZero() || tr.ShouldSendAck(now.Add(time.Second)) {
		t.Fatalf("after the ACK of our ACK: ranges %v, pending %v, deadline %v", tr.HasRanges(), tr.Pending(), tr.Deadline())
	}
	tr.OnPacketReceived(5, true, ECNNotECT, now)
	if !tr.HasRanges() || !tr.Pending() {
		t.Fatal("a new packet is not tracked")
	}
}
