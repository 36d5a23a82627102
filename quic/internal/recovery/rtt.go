// Package recovery implements QUIC loss detection and acknowledgement
// tracking (RFC 9002, RFC 9000 §13) as sans-IO state owned by one path.
//
// A Path holds, per packet-number space, the packets we sent that are not
// yet acknowledged or lost, and the packet numbers we received and still
// have to acknowledge. It also holds the path's RTT estimator, congestion
// controller and pacer. A single-path connection is a multipath connection
// with one Path; later paths only use the application-data space.
//
// Nothing here reads a clock or arms a timer: every call takes now, and
// Path.NextTimer says when the caller must call back.
package recovery

import "time"

// Defaults from RFC 9002 and RFC 9000, which iroh (noq) also uses.
const (
	// DefaultInitialRTT is kInitialRtt. noq's TransportConfig uses the same
	// 333 ms, so our PTOs before the first sample match iroh's.
	DefaultInitialRTT = 333 * time.Millisecond
	// DefaultMaxAckDelay is max_ack_delay when the transport parameter is
	// absent (iroh does not send it).
	DefaultMaxAckDelay = 25 * time.Millisecond
	// LocalMaxAckDelay is the max_ack_delay we advertise and keep to. The
	// peer adds it to every PTO, so on a LAN path, where the RTT is well
	// under a millisecond, 25 ms would make each tail loss cost hundreds
	// of round trips. ACKs otherwise go every second packet, so a short
	// delay only adds ACKs for sparse traffic, which gets one per packet
	// anyway.
	LocalMaxAckDelay = 5 * time.Millisecond
	// Granularity is kGranularity, the assumed timer resolution.
	Granularity = time.Millisecond
)

// RTT estimates a path's round-trip time (RFC 9002 §5).
type RTT struct {
	latest    time.Duration
	adjusted  time.Duration // latest net of the peer's ACK delay, as folded in
	min       time.Duration
	smoothed  time.Duration
	variance  time.Duration
	hasSample bool
	// firstSample is when the first sample was taken; persistent congestion
	// only counts losses of packets sent after it (RFC 9002 §7.6.2).
	firstSample time.Time
}

// NewRTT returns an estimator seeded with initial (DefaultInitialRTT when
// zero or negative): smoothed = initial, rttvar = initial/2.
func NewRTT(initial time.Duration) RTT {
	if initial <= 0 {
		initial = DefaultInitialRTT
	}
	return RTT{smoothed: initial, variance: initial / 2, latest: initial}
}

// Update folds in one sample (RFC 9002 §5.3). latest is the time from
// sending the largest newly acknowledged packet to receiving its ACK;
// ackDelay is the peer's reported delay. Before the handshake is confirmed
// the reported delay is used as is; afterwards it is capped at the peer's
// maxAckDelay. The delay is only subtracted when that does not take the
// sample below min_rtt.
func (r *RTT) Update(now time.Time, latest, ackDelay, maxAckDelay time.Duration, handshakeConfirmed bool) {
	if latest <= 0 {
		// A zero sample (same-instant virtual time) is still a sample, but
		// the estimator needs something positive to divide by.
		latest = time.Nanosecond
	}
	r.latest, r.adjusted = latest, latest
	if !r.hasSample {
		r.hasSample = true
		r.firstSample = now
		r.min = latest
		r.smoothed = latest
		r.variance = latest / 2
		return
	}
	r.min = min(r.min, latest)
	if ackDelay < 0 {
		ackDelay = 0
	}
	if handshakeConfirmed {
		ackDelay = min(ackDelay, maxAckDelay)
	}
	adjusted := latest
	if latest >= r.min+ackDelay {
		adjusted = latest - ackDelay
	}
	r.adjusted = adjusted
	diff := r.smoothed - adjusted
	if diff < 0 {
		diff = -diff
	}
	r.variance = (3*r.variance + diff) / 4
	r.smoothed = (7*r.smoothed + adjusted) / 8
}

// ResetInitial reseeds an estimator that has no sample yet, e.g. a new path
// that starts from another path's estimate.
func (r *RTT) ResetInitial(initial time.Duration) {
	if r.hasSample || initial <= 0 {
		return
	}
	*r = NewRTT(initial)
}

// Latest is the most recent sample (the initial RTT before any).
func (r *RTT) Latest() time.Duration { return r.latest }

// Adjusted is the latest sample net of the ACK delay it was taken with.
func (r *RTT) Adjusted() time.Duration { return r.adjusted }

// Min is the minimum sample, zero before the first one.
func (r *RTT) Min() time.Duration { return r.min }

// Smoothed is smoothed_rtt.
func (r *RTT) Smoothed() time.Duration { return r.smoothed }

// Variance is rttvar.
func (r *RTT) Variance() time.Duration { return r.variance }

// HasSample reports whether any sample has been taken.
func (r *RTT) HasSample() bool { return r.hasSample }

// PTO is the probe timeout before backoff and without max_ack_delay:
// smoothed_rtt + max(4·rttvar, kGranularity) (RFC 9002 §6.2.1).
func (r *RTT) PTO() time.Duration {
	return r.smoothed + max(4*r.variance, Granularity)
}

// lossDelay is the time threshold: 9/8 · max(smoothed, latest), at least
// kGranularity (RFC 9002 §6.1.2).
func (r *RTT) lossDelay() time.Duration {
	d := max(r.smoothed, r.latest)
	return max(d+d/8, Granularity)
}
