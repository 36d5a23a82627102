package portmap

// probeAnswer is one protocol's probe result.
type probeAnswer struct {
	proto    Protocol
	answered bool
}

// probeRound is a probe of several protocols in flight. Its answers are
// read by the loop goroutine only, so the loop can map with the best
// protocol as soon as that one is certain instead of waiting for the
// slowest probe (UPnP's 1 s search when PCP answers in milliseconds).
type probeRound struct {
	asked    [4]bool
	known    [4]bool
	answered [4]bool
	pending  int
	answers  chan probeAnswer
}

// startProbe asks every enabled protocol not trusted available, concurrently.
func (l *loop) startProbe(r route) *probeRound {
	now := l.clock.Now()
	pr := &probeRound{answers: make(chan probeAnswer, len(preference))}
	for _, p := range preference {
		if l.clients[p] == nil || l.probes.available(p, now) {
			continue
		}
		pr.asked[p] = true
		pr.pending++
		go func() { pr.answers <- probeAnswer{p, l.clients[p].probe(l.ctx, r)} }()
	}
	return pr
}

func (pr *probeRound) receive() {
	a := <-pr.answers
	pr.known[a.proto], pr.answered[a.proto] = true, a.answered
	pr.pending--
}

// best waits until the most preferred protocol that answers is certain:
// it answered and every more preferred one asked has answered no. None
// when no asked protocol answers.
func (pr *probeRound) best() Protocol {
	for {
		if p, certain := pr.decided(); certain {
			return p
		}
		pr.receive()
	}
}

func (pr *probeRound) decided() (Protocol, bool) {
	for _, p := range preference {
		switch {
		case !pr.asked[p]:
		case !pr.known[p]:
			return None, false
		case pr.answered[p]:
			return p, true
		}
	}
	return None, true
}

// finishProbe waits for the rest of the round and records it.
func (l *loop) finishProbe(pr *probeRound) ProbeResult {
	for pr.pending > 0 {
		pr.receive()
	}
	now := l.clock.Now()
	for _, p := range preference {
		if pr.answered[p] {
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
