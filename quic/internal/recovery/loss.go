package recovery

import "time"

// TimerKind says what a deadline is for.
type TimerKind uint8

// Timer kinds.
const (
	TimerNone TimerKind = iota
	// TimerLoss: a packet becomes lost by the time threshold.
	TimerLoss
	// TimerPTO: the probe timeout; probes are due.
	TimerPTO
	// TimerAck: an ACK frame must be sent (max_ack_delay elapsed or an
	// immediate ACK is owed).
	TimerAck
)

func (k TimerKind) String() string {
	switch k {
	case TimerNone:
		return "none"
	case TimerLoss:
		return "loss"
	case TimerPTO:
		return "pto"
	case TimerAck:
		return "ack"
	}
	return "invalid"
}

// Timer is a deadline the caller must wake the path at.
type Timer struct {
	At    time.Time // zero when Kind is TimerNone
	Kind  TimerKind
	Space Space
}

func (t Timer) before(u Timer) bool {
	return t.Kind != TimerNone && (u.Kind == TimerNone || t.At.Before(u.At))
}

// LossTimer returns the loss detection timer (loss or PTO).
func (p *Path[T]) LossTimer() Timer { return p.timer }

// NextTimer returns the earliest deadline of the path: the loss detection
// timer or an ACK deadline. When it passes, call OnTimeout for loss and
// PTO timers, or send an ACK in Space for TimerAck.
func (p *Path[T]) NextTimer() Timer {
	next := p.timer
	for s := range numSpaces {
		sp := &p.spaces[s]
		if sp.discarded {
			continue
		}
		if at := sp.acks.Deadline(); !at.IsZero() {
			if t := (Timer{At: at, Kind: TimerAck, Space: s}); t.before(next) {
				next = t
			}
		}
	}
	return next
}

// detectLost declares lost every outstanding packet at or below the largest
// acknowledged that is 3 packets (or the reordering the path has shown)
// or 9/8 RTT older than it (RFC 9002 §6.1),
// and arms sp.lossTime for the rest. It informs the controller and reports
// whether a congestion event and persistent congestion occurred.
func (p *Path[T]) detectLost(s Space, now time.Time) (congestionEvent, persistent bool) {
	sp := &p.spaces[s]
	sp.lossTime = time.Time{}
	if !sp.hasLargestAcked {
		return false, false
	}
	lossDelay := p.rtt.lossDelay()
	lostBefore := now.Add(-lossDelay)
	first := len(p.lost)

	// Persistent congestion needs a run of lost ack-eliciting packets with
	// nothing acknowledged in between, spanning a long enough time.
	pcDuration := p.persistentCongestionDuration()
	var runStart time.Time
	runStarted := false

	var newestLostSent time.Time
	anyInFlightLost := false
	for i := 0; i < sp.sent.len(); i++ {
		e := sp.sent.at(i)
		if e.pkt.Number > sp.largestAcked {
			break
		}
		switch e.state {
		case stateAcked:
			runStarted = false
			continue
		case stateLost:
			continue
		}
		if e.pkt.TimeSent.After(lostBefore) && sp.largestAcked < e.pkt.Number+sp.reorderThreshold() {
			// Later packets are newer in both number and time: none of
			// them is lost either.
			sp.lossTime = e.pkt.TimeSent.Add(lossDelay)
			break
		}
		sp.sent.settle(e, stateLost)
		p.lost = append(p.lost, e.pkt)
		if e.pkt.AckEliciting {
			sp.unrepaired = now
		}
		if !e.pkt.InFlight || e.pkt.MTUProbe {
			continue
		}
		anyInFlightLost = true
		if e.pkt.TimeSent.After(newestLostSent) {
			newestLostSent = e.pkt.TimeSent
		}
		// Only packets sent after the first RTT sample count.
		if !e.pkt.AckEliciting || !p.rtt.hasSample || !e.pkt.TimeSent.After(p.rtt.firstSample) {
			continue
		}
		if !runStarted {
			runStarted, runStart = true, e.pkt.TimeSent
		} else if e.pkt.TimeSent.Sub(runStart) > pcDuration {
			persistent = true
		}
	}
	if len(p.lost) == first || !anyInFlightLost {
		return false, false
	}
	p.declareLost(s, p.lost[first:], newestLostSent, now)
	p.cc.OnPacketsLost(now, newestLostSent)
	if persistent {
		p.spur.undoable = false
		p.cc.OnPersistentCongestion(now)
	}
	return true, persistent
}

// declareLost remembers newly lost in-flight packets, so a late ACK can
// prove them spurious; a loss outside the recovery period starts a new
// reduction.
func (p *Path[T]) declareLost(s Space, lost []SentPacket[T], newestLostSent, now time.Time) {
	if !p.cc.InRecovery(newestLostSent) {
		p.spur.newEvent()
	}
	for _, l := range lost {
		if l.InFlight && !l.MTUProbe {
			p.spur.declare(s, l.Number, p.spaces[s].largestAcked, now)
		}
	}
}

// persistentCongestionDuration is (smoothed + max(4·rttvar, granularity) +
// max_ack_delay) · 3 (RFC 9002 §7.6.1).
func (p *Path[T]) persistentCongestionDuration() time.Duration {
	return (p.rtt.PTO() + p.cfg.PeerMaxAckDelay) * persistentCongestionThreshold
}

func (p *Path[T]) earliestLossTime() (time.Time, Space) {
	var at time.Time
	var space Space
	for s := range numSpaces {
		lt := p.spaces[s].lossTime
		if !lt.IsZero() && (at.IsZero() || lt.Before(at)) {
			at, space = lt, s
		}
	}
	return at, space
}

func (p *Path[T]) ackElicitingInFlight() bool {
	for s := range numSpaces {
		if p.spaces[s].sent.ackElicitingInFlight > 0 {
			return true
		}
	}
	return false
}

// backedOff multiplies d by 2^ptoCount, saturating.
func (p *Path[T]) backedOff(d time.Duration) time.Duration {
	shift := min(p.ptoCount, maxPTOBackoffShift)
	return d << shift
}

// ptoTimeAndSpace is RFC 9002 §A.8 GetPtoTimeAndSpace.
func (p *Path[T]) ptoTimeAndSpace(now time.Time) (time.Time, Space, bool) {
	duration := p.backedOff(p.rtt.PTO())
	if !p.ackElicitingInFlight() {
		// Client anti-deadlock: nothing in flight, but the server may be
		// blocked by its amplification limit until we send.
		if p.handshakeKeys && !p.spaces[Handshake].discarded {
			return now.Add(duration), Handshake, true
		}
		if !p.spaces[Initial].discarded {
			return now.Add(duration), Initial, true
		}
		return time.Time{}, 0, false
	}
	var at time.Time
	var space Space
	found := false
	for s := range numSpaces {
		sp := &p.spaces[s]
		if sp.discarded || sp.sent.ackElicitingInFlight == 0 {
			continue
		}
		d := duration
		if s == AppData {
			// Application data is not probed before the handshake is
			// confirmed; its PTO also waits for the peer's ACK delay.
			if !p.handshakeConfirmed {
				if !found {
					at, space, found = p.handshakeProbeFor(sp, duration)
				}
				break
			}
			d += p.backedOff(p.cfg.PeerMaxAckDelay)
		}
		t := sp.lastAckElicitingSent.Add(d)
		if !found || t.Before(at) {
			at, space, found = t, s, true
		}
	}
	return at, space, found
}

// handshakeProbeFor arms a Handshake-space PTO when only 1-RTT packets are
// in flight before the handshake is confirmed and a lost Handshake packet
// was not yet repaired. RFC 9002 §A.8 arms none then; but if our Finished
// was lost and the 1-RTT data fills the window, nothing would ever resend
// it: the connection stalls until it idles out. Without such a loss the
// peer may well have dropped its Handshake keys already, and probing
// there would only back off; its HANDSHAKE_DONE is what we wait for.
func (p *Path[T]) handshakeProbeFor(app *spaceState[T], duration time.Duration) (time.Time, Space, bool) {
	hs := &p.spaces[Handshake]
	if !p.handshakeKeys || hs.discarded || hs.unrepaired.IsZero() {
		return time.Time{}, 0, false
	}
	return app.lastAckElicitingSent.Add(duration), Handshake, true
}

// setLossDetectionTimer is RFC 9002 §A.8 SetLossDetectionTimer.
func (p *Path[T]) setLossDetectionTimer(now time.Time) {
	if at, s := p.earliestLossTime(); !at.IsZero() {
		p.timer = Timer{At: at, Kind: TimerLoss, Space: s}
		return
	}
	if p.amplificationBlocked || (!p.ackElicitingInFlight() && p.peerCompletedAddressValidation()) {
		p.timer = Timer{}
		return
	}
	if at, s, ok := p.ptoTimeAndSpace(now); ok {
		p.timer = Timer{At: at, Kind: TimerPTO, Space: s}
		return
	}
	p.timer = Timer{}
}

// TimeoutResult reports what a loss detection timeout did.
type TimeoutResult[T any] struct {
	Kind  TimerKind // TimerNone if the timer was not due
	Space Space
	// Lost aliases a Path buffer, valid until the next call.
	Lost []SentPacket[T]
	// Probes is how many ack-eliciting probe packets to send in Space now
	// (also available through ProbesPending).
	Probes int
	// CongestionEvent and PersistentCongestion are as in AckResult.
	CongestionEvent      bool
	PersistentCongestion bool
}

// OnTimeout runs the loss detection timer if it is due (RFC 9002 §A.9):
// either time-threshold losses are declared, or a PTO fires, backs off and
// asks for probes.
func (p *Path[T]) OnTimeout(now time.Time) TimeoutResult[T] {
	p.lost = p.lost[:0]
	if p.timer.Kind == TimerNone || now.Before(p.timer.At) {
		return TimeoutResult[T]{}
	}
	if at, s := p.earliestLossTime(); !at.IsZero() {
		sp := &p.spaces[s]
		ev, pc := p.detectLost(s, now)
		sp.sent.trim()
		p.setLossDetectionTimer(now)
		return TimeoutResult[T]{Kind: TimerLoss, Space: s, Lost: p.lost, CongestionEvent: ev, PersistentCongestion: pc}
	}
	_, s, ok := p.ptoTimeAndSpace(now)
	if !ok {
		p.setLossDetectionTimer(now)
		return TimeoutResult[T]{}
	}
	res := TimeoutResult[T]{Kind: TimerPTO, Space: s, Probes: probesPerPTO}
	if !p.ackElicitingInFlight() {
		// Anti-deadlock probe: one padded Initial, or a Handshake packet.
		res.Probes = 1
	}
	p.spaces[res.Space].probes = res.Probes
	p.ptoCount++
	p.setLossDetectionTimer(now)
	return res
}
