package portmap

import (
	"context"
	"net/netip"
	"time"
)

type cmdKind int

const (
	cmdProcure cmdKind = iota
	cmdNetworkChange
	cmdProbe
	cmdClose
	cmdSync // a round trip through the loop (tests)
)

type command struct {
	kind       cmdKind
	major      bool
	probeReply chan ProbeResult
	closeReply chan error
	syncReply  chan struct{}
}

// loop owns all mapping state; only its goroutine touches it.
type loop struct {
	m *Mapper
	env
	ctx      context.Context
	local    netip.AddrPort
	lifetime time.Duration // Options.Lifetime

	cur      *lease
	renewAt  time.Time
	expireAt time.Time
	renewing bool // the renewal at half time failed; expireAt is next
	version  uint64
	probes   probeState

	timer   Timer
	timerAt time.Time
}

func (l *loop) run() {
	defer close(l.m.done)
	l.attempt(netip.AddrPort{})
	for {
		timerC := l.armTimer()
		// A deadline already due goes first, so that a command sent after
		// the clock moved sees its effect.
		select {
		case <-timerC:
			l.onDeadline()
			continue
		default:
		}
		select {
		case <-timerC:
			l.onDeadline()
		case c := <-l.m.cmds:
			select { // a deadline that fell due meanwhile goes first
			case <-timerC:
				l.onDeadline()
			default:
			}
			if c.kind == cmdClose {
				c.closeReply <- l.shutdown()
				return
			}
			l.handle(c)
		}
	}
}

func (l *loop) handle(c command) {
	switch c.kind {
	case cmdProcure:
		if l.cur == nil {
			l.attempt(netip.AddrPort{})
		}
	case cmdNetworkChange:
		l.onNetworkChange(c.major)
	case cmdProbe:
		c.probeReply <- l.probeNow()
	case cmdSync:
		close(c.syncReply)
	}
}

// armTimer keeps one timer for the next lease deadline.
func (l *loop) armTimer() <-chan time.Time {
	next := l.nextDeadline()
	if l.timer != nil && next.Equal(l.timerAt) {
		return l.timer.C()
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if next.IsZero() {
		return nil
	}
	l.timer, l.timerAt = l.clock.NewTimer(max(next.Sub(l.clock.Now()), 0)), next
	return l.timer.C()
}

func (l *loop) nextDeadline() time.Time {
	switch {
	case l.cur == nil:
		return time.Time{}
	case l.renewing:
		return l.expireAt
	}
	return l.renewAt
}

func (l *loop) onDeadline() {
	l.timer = nil
	now := l.clock.Now()
	switch {
	case l.cur == nil:
	case !l.renewing && !now.Before(l.renewAt):
		l.renew()
	case l.renewing && !now.Before(l.expireAt):
		l.expire()
	}
}

// renew asks the same protocol for the same mapping at half its lifetime.
func (l *loop) renew() {
	l.renewing = true
	l.m.updateStats(func(s *Stats) { s.Attempts++ })
	cur := l.cur
	req := request{route: cur.route, lifetime: l.lifetimeFor(cur.proto), prefer: cur.external, prev: cur}
	nl, err := l.clients[cur.proto].mapPort(l.ctx, req)
	if err != nil {
		l.logf("portmap: renewing %v mapping %v: %v", cur.proto, cur.external, err)
		l.m.updateStats(func(s *Stats) { s.Failures++ })
		return
	}
	l.m.updateStats(func(s *Stats) { s.Renewals++ })
	l.setLease(nl)
}

// expire withdraws a mapping whose renewal failed and looks for a new one.
func (l *loop) expire() {
	old := l.cur.external
	l.logf("portmap: %v mapping %v expired", l.cur.proto, old)
	l.m.updateStats(func(s *Stats) { s.Expiries++ })
	l.drop()
	l.attempt(old)
}

func (l *loop) onNetworkChange(major bool) {
	if major {
		r, err := l.route(l.local)
		if l.cur != nil && (err != nil || r.gateway != l.cur.gateway || r.local != l.cur.local) {
			l.logf("portmap: network changed under the %v mapping %v", l.cur.proto, l.cur.external)
			l.release()
			l.drop()
		}
		if err == nil && r.gateway != l.probes.gateway {
			l.probes = probeState{gateway: r.gateway}
		}
	}
	if l.cur == nil {
		l.attempt(netip.AddrPort{})
	}
}

func (l *loop) shutdown() error {
	var err error
	if l.cur != nil {
		err = l.release()
		l.drop()
	}
	close(l.m.events)
	return err
}

// release deletes the current mapping at the gateway.
func (l *loop) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := l.clients[l.cur.proto].release(ctx, *l.cur)
	if err != nil {
		l.logf("portmap: deleting %v mapping %v: %v", l.cur.proto, l.cur.external, err)
		return err
	}
	l.m.updateStats(func(s *Stats) { s.Releases++ })
	return nil
}

// setLease installs a granted mapping and reports a new external address.
func (l *loop) setLease(nl lease) {
	old := l.cur
	now := l.clock.Now()
	l.cur, l.renewing = &nl, false
	l.renewAt, l.expireAt = now.Add(nl.lifetime/2), now.Add(nl.lifetime)
	l.probes.seen[nl.proto] = now
	l.m.updateStats(func(s *Stats) { s.Expires = l.expireAt })
	if old == nil || old.external != nl.external || old.proto != nl.proto {
		if old == nil || old.external != nl.external {
			l.version++
		}
		l.m.publish(Event{External: nl.external, Protocol: nl.proto, Version: l.version})
	}
}

// drop forgets the current mapping and reports that there is none.
func (l *loop) drop() {
	l.cur, l.renewing = nil, false
	l.version++
	l.m.updateStats(func(s *Stats) { s.Expires = time.Time{} })
	l.m.publish(Event{Version: l.version})
}

func (l *loop) lifetimeFor(p Protocol) time.Duration {
	if l.lifetime > 0 {
		return l.lifetime
	}
	switch p {
	case PCP:
		return pcpLifetime
	case NATPMP:
		return natpmpLifetime
	}
	return upnpLifetime
}
