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

// idleFor is how long p may stay silent; relay paths get twice as long,
// as iroh gives them (30 s against 15 s).
func (m *multipath) idleFor(p *path) time.Duration {
	if p.addr.IsRelay() {
		return 2 * m.pathIdle
	}
	return m.pathIdle
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
