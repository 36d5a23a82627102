package portmap

import (
	"net/netip"
	"time"
)

// iroh's trust windows (see the package doc).
const (
	availabilityTrust   = 10 * time.Minute
	unavailabilityTrust = 5 * time.Second
)

// preference is iroh's order.
var preference = []Protocol{PCP, NATPMP, UPnP}

// probeState remembers which protocols answered on which gateway.
type probeState struct {
	gateway netip.Addr
	seen    [4]time.Time // when each protocol last answered
	last    time.Time    // the last probe round
}

func (p *probeState) available(proto Protocol, now time.Time) bool {
	return !p.seen[proto].IsZero() && now.Sub(p.seen[proto]) < availabilityTrust
}

// attempt looks for a new mapping, keeping prefer's port if it can.
func (l *loop) attempt(prefer netip.AddrPort) {
	l.m.updateStats(func(s *Stats) { s.Attempts++ })
	r, err := l.route(l.local)
	if err != nil {
		l.logf("portmap: %v", err)
		l.m.updateStats(func(s *Stats) { s.Failures++ })
		return
	}
	if r.gateway != l.probes.gateway {
		l.probes = probeState{gateway: r.gateway}
	}
	early, tried := None, None
	if !l.anyAvailable() && l.clock.Now().Sub(l.probes.last) >= unavailabilityTrust {
		round := l.startProbe(r)
		early = round.best()
		ok := early != None && l.tryMap(early, r, prefer)
		l.finishProbe(round)
		if ok {
			return
		}
		if early != None {
			l.probes.seen[early], tried = time.Time{}, early
		}
	}
	for _, p := range l.choose() {
		if p == tried {
			continue
		}
		if l.tryMap(p, r, prefer) {
			return
		}
		if l.ctx.Err() != nil {
			break
		}
	}
	l.m.updateStats(func(s *Stats) { s.Failures++ })
}

// tryMap asks p for a mapping and installs it; a refusal makes p
// unavailable.
func (l *loop) tryMap(p Protocol, r route, prefer netip.AddrPort) bool {
	nl, err := l.clients[p].mapPort(l.ctx, request{route: r, lifetime: l.lifetimeFor(p), prefer: prefer})
	if err == nil {
		l.setLease(nl)
		return true
	}
	l.logf("portmap: %v mapping via gateway %v: %v", p, r.gateway, err)
	l.probes.seen[p] = time.Time{}
	return false
}

func (l *loop) anyAvailable() bool {
	now := l.clock.Now()
	for _, p := range preference {
		if l.clients[p] != nil && l.probes.available(p, now) {
			return true
		}
	}
	return false
}

// choose lists the protocols to try: the available ones in order, else
// iroh's fallback (UPnP if enabled, else PCP and NAT-PMP unless they were
// probed in the last 5 s).
func (l *loop) choose() []Protocol {
	now := l.clock.Now()
	var order []Protocol
	for _, p := range preference {
		if l.clients[p] != nil && l.probes.available(p, now) {
			order = append(order, p)
		}
	}
	if len(order) > 0 {
		return order
	}
	if l.clients[UPnP] != nil {
		return []Protocol{UPnP}
	}
	if now.Sub(l.probes.last) < unavailabilityTrust {
		return nil
	}
	for _, p := range []Protocol{PCP, NATPMP} {
		if l.clients[p] != nil {
			order = append(order, p)
		}
	}
	return order
}

// probeNow serves Probe: the route, then a probe round.
func (l *loop) probeNow() ProbeResult {
	r, err := l.route(l.local)
	if err != nil {
		l.logf("portmap: %v", err)
		return ProbeResult{}
	}
	if r.gateway != l.probes.gateway {
		l.probes = probeState{gateway: r.gateway}
	}
	return l.probe(r)
}

// probe runs a whole probe round.
func (l *loop) probe(r route) ProbeResult { return l.finishProbe(l.startProbe(r)) }
