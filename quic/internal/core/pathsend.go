package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
)

// pollPaths picks the path of the next datagram under multipath: first any
// path with something of its own to send (a challenge, a response, a
// probe, a keep-alive), then the data path with everything else.
func (c *Conn) pollPaths(now time.Time, buf []byte) (int, Addr) {
	if c.nat != nil {
		if n, to := c.pollNat(now, buf); n > 0 {
			return n, to
		}
	}
	for _, p := range c.paths {
		if n := c.pollMTUProbe(now, p, buf); n > 0 {
			return n, p.addr
		}
	}
	dp := c.paths.data()
	for _, p := range c.paths {
		if p == dp || !c.pathWantsSend(now, p) {
			continue
		}
		if n, to := c.transmitOn(now, p, false, buf); n > 0 {
			return n, to
		}
	}
	if dp == nil {
		dp = c.paths.fallback()
	}
	if dp == nil {
		return 0, Addr{}
	}
	if n, to := c.transmitOn(now, dp, true, buf); n > 0 {
		return n, to
	}
	return c.pollDueAcks(now, dp, buf)
}

// pollDueAcks sends due PATH_ACKs on another validated path when the data
// path could not carry them (say, it is migrating and at its
// amplification limit): otherwise the ACK deadline stays in the past and
// the driver spins on it.
func (c *Conn) pollDueAcks(now time.Time, dp *path, buf []byte) (int, Addr) {
	due := false
	for _, p := range c.paths {
		due = due || p.rec.Acks(recovery.AppData).ShouldSendAck(now)
	}
	if !due {
		return 0, Addr{}
	}
	for _, p := range c.paths {
		if p == dp || p.mp.abandoned || !p.mp.usable || !p.remote.usable() {
			continue
		}
		if n, to := c.transmitOn(now, p, false, buf); n > 0 {
			return n, to
		}
	}
	return 0, Addr{}
}

// pathWantsSend reports whether p has frames that must go on p itself.
func (c *Conn) pathWantsSend(now time.Time, p *path) bool {
	m := p.mp
	if m.abandoned || !p.remote.usable() {
		return false
	}
	migrating := p.mig != nil && p.mig.challengeOut // the peer moved on this path: validate it here
	// A validated path acknowledges its own packets: if the ACKs went on
	// the data path and that one silently died, the peer would never
	// learn what arrived here (nor that its PATH_ABANDON for the dead
	// path was lost).
	ownAck := m.usable && p.rec.Acks(recovery.AppData).ShouldSendAck(now)
	return m.challengeOut || migrating || ownAck || m.ping || len(p.responses) > 0 || p.rec.ProbesPending(recovery.AppData) > 0 || c.observedPending(p)
}

// onAbandonSent: once our PATH_ABANDON is out the peer's CIDs for the path
// count as retired, and the path drains for three PTOs at most.
func (c *Conn) onAbandonSent(now time.Time, id uint64) {
	// Not yet: the packet carrying the frame may be on that very path.
	c.mp.dropRemote = append(c.mp.dropRemote, id)
	if p := c.paths.byID(id); p != nil && p.mp.drainUntil.IsZero() {
		p.mp.drainUntil = now.Add(3 * p.rec.ProbeTimeout())
	}
}

// dropAbandonedRemotes forgets the peer's CIDs of paths whose PATH_ABANDON
// went out in the datagram just built.
func (c *Conn) dropAbandonedRemotes() {
	if c.mp == nil {
		return
	}
	for _, id := range c.mp.dropRemote {
		if s := c.mp.set(id); s != nil {
			s.remote.ids = nil
			c.cids.tokensChanged = true
		}
	}
	c.mp.dropRemote = c.mp.dropRemote[:0]
}

// framesPending reports whether connection-level multipath frames are
// owed.
func (m *multipath) framesPending() bool {
	return m != nil && (len(m.statusOut) > 0 || len(m.abandonsOut) > 0 || m.maxPathIDOut ||
		m.pathsBlockedOut || len(m.cidsBlockedOut) > 0)
}

// pathTimers reports p's multipath deadlines.
func (c *Conn) pathTimers(p *path, consider func(time.Time)) {
	m := p.mp
	if !m.drainUntil.IsZero() && len(c.paths) > 1 {
		consider(m.drainUntil)
	}
	if m.abandoned {
		return
	}
	if !m.challengeOut {
		consider(m.challengeAt)
	}
	consider(m.validateBy)
	if idle := c.mp.idleFor(p); idle > 0 && c.paths.live() > 1 {
		consider(m.lastRecv.Add(idle))
	}
	if ka := c.cfg.keepAlive(); ka > 0 && !m.ping && !m.lastEliciting.IsZero() && p.remote.usable() {
		consider(m.lastEliciting.Add(ka))
	}
}

// idleFor is how long p may stay silent; relay paths get twice as long,
// as iroh gives them (30 s against 15 s).
func (m *multipath) idleFor(p *path) time.Duration {
	if p.addr.IsRelay() {
		return 2 * m.pathIdle
	}
	return m.pathIdle
}

// handlePathTimers runs p's expired multipath deadlines.
func (c *Conn) handlePathTimers(now time.Time, p *path) {
	m := p.mp
	if !m.drainUntil.IsZero() && !now.Before(m.drainUntil) {
		c.discardPath(now, p)
		return
	}
	if m.abandoned {
		return
	}
	if !m.validateBy.IsZero() && !now.Before(m.validateBy) {
		m.validateBy, m.challengeAt, m.challengeOut = time.Time{}, time.Time{}, false
		if !m.usable && c.paths.live() > 1 {
			c.abandonPath(now, p, PathUnstableOrPoor, false)
			return
		}
	}
	if !m.challengeOut && !m.challengeAt.IsZero() && !now.Before(m.challengeAt) {
		m.challengeOut = true // the challenge counts as lost: resend it
	}
	if idle := c.mp.idleFor(p); idle > 0 && c.paths.live() > 1 && !now.Before(m.lastRecv.Add(idle)) {
		c.abandonPath(now, p, PathUnstableOrPoor, false)
		return
	}
	if ka := c.cfg.keepAlive(); ka > 0 && !m.lastEliciting.IsZero() && !now.Before(m.lastEliciting.Add(ka)) {
		m.ping = true
	}
}
