package core

import (
	"time"
)

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

// onAbandonSent: once our PATH_ABANDON is out the peer's CIDs for the path
// count as retired, and the path, p if still here, drains for three PTOs at most.
func (m *multipath) onAbandonSent(now time.Time, id uint64, p *path) {
	// Not yet: the packet carrying the frame may be on that very path.
	m.dropRemote = append(m.dropRemote, id)
	if p != nil && p.mp.drainUntil.IsZero() {
		p.mp.drainUntil = now.Add(3 * p.rec.ProbeTimeout())
	}
}

// dropAbandonedRemotes forgets the peer's CIDs of paths whose PATH_ABANDON
// went out in the datagram just built; tokensChanged says the
// peer's reset tokens changed.
func (m *multipath) dropAbandonedRemotes() (tokensChanged bool) {
	if m == nil {
		return false
	}
	for _, id := range m.dropRemote {
		if s := m.set(id); s != nil {
			s.remote.ids = nil
			tokensChanged = true
		}
	}
	m.dropRemote = m.dropRemote[:0]
	return tokensChanged
}
