package portmap

import (
	"net/netip"
	"sync"
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
	if !l.anyAvailable() && l.clock.Now().Sub(l.probes.last) >= unavailabilityTrust {
		l.probe(r)
	}
	for _, p := range l.choose() {
		nl, err := l.clients[p].mapPort(l.ctx, request{route: r, lifetime: l.lifetimeFor(p), prefer: prefer})
		if err == nil {
			l.setLease(nl)
			return
		}
		l.logf("portmap: %v mapping via gateway %v: %v", p, r.gateway, err)
		l.probes.seen[p] = time.Time{}
		if l.ctx.Err() != nil {
			break
		}
	}
	l.m.updateStats(func(s *Stats) { s.Failures++ })
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

// probe asks every enabled protocol not trusted available, concurrently.
func (l *loop) probe(r route) ProbeResult {
	now := l.clock.Now()
	var wg sync.WaitGroup
	var answered [4]bool
	for _, p := range preference {
		if l.clients[p] == nil || l.probes.available(p, now) {
			continue
		}
		wg.Go(func() { answered[p] = l.clients[p].probe(l.ctx, r) })
	}
	wg.Wait()
	now = l.clock.Now()
	for _, p := range preference {
		if answered[p] {
			l.probes.seen[p] = now
		}
	}
	l.probes.last = now
	l.m.updateStats(func(s *Stats) { s.Probes++ })
	return ProbeResult{
		PCP:    l.probes.available(PCP, now),
		NATPMP: l.probes.available(NATPMP, now),
		UPnP:   l.probes.available(UPnP, now),
	}
}
