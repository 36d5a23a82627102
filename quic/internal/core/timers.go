package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
)

// Timeout returns when HandleTimeout must next be called; ok is false when
// nothing is scheduled.
func (c *Conn) Timeout() (at time.Time, ok bool) {
	consider := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	switch c.state {
	case stateClosed:
		return time.Time{}, false
	case stateClosing, stateDraining:
		return c.closing.deadline, true
	}
	// Under multipath, when every path is gone there is nowhere to send
	// ACKs; only the NO_VIABLE_PATH grace timer matters then.
	stranded := c.mp != nil && c.paths.fallback() == nil
	for _, p := range c.paths {
		t := p.rec.NextTimer()
		if t.Kind == recovery.TimerAck && (stranded || !c.paths.ackSendable(p)) {
			t = p.rec.LossTimer()
		}
		consider(t.At)
		if p.mp != nil {
			p.multipathTimers(consider, c.paths, c.mp.idleFor(p), c.cfg.keepAlive())
		}
		c.mtuTimer(p, consider)
		if p.mig != nil {
			consider(p.mig.timer())
		}
		// Wake when pacing releases data that a poll had to hold back.
		if p.pacedUntil.After(c.live.lastPoll) && (&packetBuilder{c: c, l: levelApp, p: p, data: p == c.paths.data()}).hasData() {
			consider(p.pacedUntil)
		}
	}
	consider(c.live.idleDeadline(c.paths.primary().rec.ProbeTimeout()))
	if c.state == stateEstablished && c.mp == nil {
		// Once the PING is owed, waking again would only spin while the
		// congestion window holds it back.
		if ka := c.cfg.keepAlive(); ka > 0 && !c.live.lastSent.IsZero() && !c.live.sendPing {
			consider(c.live.lastSent.Add(ka))
		}
	}
	consider(c.app.prevUntil)
	consider(c.cids.reissue.timer())
	consider(c.cids.firstIssueAt)
	if c.mp != nil {
		consider(c.mp.noViableAt)
	}
	if at, ok := c.NatTimeout(); ok {
		consider(at)
	}
	return at, !at.IsZero()
}

// HandleTimeout runs whatever deadlines have passed at now.
func (c *Conn) HandleTimeout(now time.Time) {
	switch c.state {
	case stateClosed:
		return
	case stateClosing, stateDraining:
		if !now.Before(c.closing.deadline) {
			c.terminate(c.err)
		}
		return
	}
	if dl := c.live.idleDeadline(c.paths.primary().rec.ProbeTimeout()); !dl.IsZero() && !now.Before(dl) {
		c.terminate(ErrIdleTimeout)
		return
	}
	if c.mp != nil && !c.mp.noViableAt.IsZero() && !now.Before(c.mp.noViableAt) {
		// Every path is gone and none replaced it: a silent close, as
		// nothing can carry a CONNECTION_CLOSE.
		c.terminate(ErrNoViablePath)
		return
	}
	for _, p := range append([]*path(nil), c.paths...) {
		c.recoveryTimeout(now, p)
		if p.mp != nil {
			switch p.multipathTimeout(now, c.paths, c.mp.idleFor(p), c.cfg.keepAlive()) {
			case verdictDiscard:
				c.discardPath(now, p)
			case verdictAbandon:
				c.abandonPath(now, p, PathUnstableOrPoor, false)
			}
		}
		if p.migrationTimeout(now) {
			c.stats.MigrationsReverted++
		}
	}
	if c.state == stateEstablished && c.mp == nil {
		if ka := c.cfg.keepAlive(); ka > 0 && !c.live.lastSent.IsZero() && !now.Before(c.live.lastSent.Add(ka)) {
			c.live.sendPing = true
		}
	}
	c.app.dropPrev(now)
	c.reissueTimeout(now)
}

func (c *Conn) recoveryTimeout(now time.Time, p *path) {
	// The loss timer itself: an earlier ACK deadline that no path can
	// serve (ackSendable) must not hide it.
	t := p.rec.LossTimer()
	if t.Kind == recovery.TimerNone || now.Before(t.At) {
		return
	}
	res := p.rec.OnTimeout(now)
	if res.Space == recovery.AppData {
		c.onAppPacketsLost(now, p, res.Lost)
	}
	for _, sp := range res.Lost {
		c.onRecordLost(sp.Payload)
	}
	if res.Kind == recovery.TimerPTO && res.Space != recovery.AppData && p.id == 0 {
		c.crypto[levelOfSpace(res.Space)].send.requeueOutstanding(p.rec, res.Space)
	}
}

// Ping makes the next packet ack-eliciting, to probe liveness.
func (c *Conn) Ping() { c.live.sendPing = true }
