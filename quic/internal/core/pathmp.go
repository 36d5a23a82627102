package core

import (
	"io"
	"time"
)

// pathMP is the multipath state of one path: its validation by
// PATH_CHALLENGE, its status as we and the peer see it, its liveness and
// its abandonment. The path decides on its own deadlines here; the
// connection acts on the verdict.
type pathMP struct {
	usable           bool // validated by PATH_RESPONSE; may carry data
	provisional      bool // usable on a probe's answer; its own challenge is still out
	peerValidated    bool // the peer's first PATH_CHALLENGE here arrived
	status           PathStatus
	statusSeq        uint64
	remoteStatus     PathStatus
	remoteStatusSeq  uint64
	haveRemoteStatus bool
	challenge        [8]byte
	challengeOut     bool      // a PATH_CHALLENGE must be sent
	challengeAt      time.Time // when the outstanding challenge counts as lost
	validateBy       time.Time // give up validating then
	lastRecv         time.Time
	lastEliciting    time.Time
	ping             bool
	abandoned        bool
	draining         bool
	drainUntil       time.Time
}

// startChallenge arms a PATH_CHALLENGE; pto is the path's probe timeout.
func (m *pathMP) startChallenge(rand io.Reader, now time.Time, pto time.Duration) {
	io.ReadFull(rand, m.challenge[:])
	m.challengeOut = true
	m.validateBy = now.Add(validationWindow(pto))
}

// trustProbe makes a path the client just opened usable before its
// PATH_CHALLENGE is answered: a NAT traversal probe to the same address
// was answered, with our unpredictable token in a packet only the peer
// can seal, which proves what the path's own challenge would prove one
// round trip later (RFC 9000 §8.2; the multipath draft lets either side
// send any frame on a new path within its limits). The challenge still
// goes out, padded, and the path is abandoned if it stays unanswered:
// the probe was small and proved no MTU. rtt, if known, is the probe's
// round trip and seeds the path's estimator.
func (p *path) trustProbe(rtt time.Duration) {
	p.mp.usable, p.mp.provisional = true, true
	if rtt > 0 {
		p.rec.RTT().ResetInitial(rtt)
	}
}

// validationWindow is how long a path may take to answer its challenge.
func validationWindow(pto time.Duration) time.Duration { return 3 * max(pto, 2*pathNoViableRTT) }

// multipathTimers reports p's multipath deadlines among paths; idle is
// how long p may stay silent, keepAlive the keep-alive interval.
func (p *path) multipathTimers(consider func(time.Time), paths pathList, idle, keepAlive time.Duration) {
	m := p.mp
	if !m.drainUntil.IsZero() && len(paths) > 1 {
		consider(m.drainUntil)
	}
	if m.abandoned {
		return
	}
	if !m.challengeOut {
		consider(m.challengeAt)
	}
	consider(m.validateBy)
	if idle > 0 && paths.live() > 1 {
		consider(m.lastRecv.Add(idle))
	}
	if keepAlive > 0 && !m.ping && !m.lastEliciting.IsZero() && p.remote.usable() {
		consider(m.lastEliciting.Add(keepAlive))
	}
}

// pathVerdict is what a path's expired deadlines ask of the connection.
type pathVerdict uint8

const (
	verdictKeep    pathVerdict = iota
	verdictDiscard             // drained: forget it
	verdictAbandon             // failed validation or went idle: PATH_ABANDON
)

// multipathTimeout runs p's expired multipath deadlines (arguments as for
// multipathTimers) and says what the connection must do with p.
func (p *path) multipathTimeout(now time.Time, paths pathList, idle, keepAlive time.Duration) pathVerdict {
	m := p.mp
	if !m.drainUntil.IsZero() && !now.Before(m.drainUntil) {
		return verdictDiscard
	}
	if m.abandoned {
		return verdictKeep
	}
	if !m.validateBy.IsZero() && !now.Before(m.validateBy) {
		if !m.usable && paths.live() == 1 {
			// The last live path: giving up would leave it unable to
			// carry data for good. Keep challenging until the idle
			// timeout ends the connection.
			m.challengeOut = true
			m.validateBy = now.Add(validationWindow(p.rec.ProbeTimeout()))
			return verdictKeep
		}
		m.validateBy, m.challengeAt, m.challengeOut = time.Time{}, time.Time{}, false
		if !m.usable || m.provisional {
			return verdictAbandon
		}
	}
	if !m.challengeOut && !m.challengeAt.IsZero() && !now.Before(m.challengeAt) {
		m.challengeOut = true // the challenge counts as lost: resend it
	}
	if idle > 0 && paths.live() > 1 && !now.Before(m.lastRecv.Add(idle)) {
		return verdictAbandon
	}
	if keepAlive > 0 && !m.lastEliciting.IsZero() && !now.Before(m.lastEliciting.Add(keepAlive)) {
		m.ping = true
	}
	return verdictKeep
}
