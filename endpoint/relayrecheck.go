package endpoint

import "time"

// After our connection to a relay was lost and came back, whatever peers
// sent us through it meanwhile is gone, and a peer learns that only at
// its next probe timeout on the relay path: backed off by then, up to
// seconds after an outage of one (noq 1.0's probe is at times padding
// alone, which asks for no ACK, so one more backoff passes). Peers send
// there while a move of ours is under way: noq puts stream data on the
// relay path while it validates our direct path's new address. A
// PATH_CHALLENGE on each of our paths through that relay makes the peer
// answer there at once, and our ACK of the answer lets its loss detection
// resend what it lost, on whichever path is its data path.

// relayReconnected rechecks every multipath connection's paths through
// the relay at url.
func (e *Endpoint) relayReconnected(url string) {
	e.conns.each(func(m *pathManager) { m.recheckRelayPaths(url) })
}

// recheckRelayPaths rechecks m's usable paths through the relay at url.
func (m *pathManager) recheckRelayPaths(url string) {
	for _, p := range m.c.Paths() {
		if usablePath(p) && p.Addr.IsRelay() && p.Addr.Relay.URL == url {
			if err := m.c.RecheckPath(p.ID); err != nil {
				m.e.log.Debug("endpoint: rechecking a relay path", "peer", m.c.RemoteID().Short(), "path", p.ID, "err", err)
				continue
			}
			m.e.metrics.RelayRechecks.Add(1)
		}
	}
}

// relayCheckSpacing spaces the relay checks that peers' rechecks ask for
// (each reads the interfaces' addresses): a peer could send many.
const relayCheckSpacing = 100 * time.Millisecond

// maybeCheckRelays: the peer challenged one of our direct paths again,
// so it saw us at a new address there. Our NAT rebound (its mappings were
// flushed) or our network changed under the socket; either way a relay
// connection through the same NAT or network is likely dead without a
// sign on our side until its next keepalive, 15 s away, while peers send
// on our relay paths (noq does during that very recheck). The relay
// connections are checked now: a dead one is redialed, and our paths
// through it rechecked when it is back.
func (m *pathManager) maybeCheckRelays(now time.Time) {
	n := m.c.PeerRechecks()
	if n == m.peerRechecks {
		return
	}
	m.peerRechecks = n
	m.e.relays.checkSoon(now)
}

// checkSoon checks the relay connections unless that was done within
// relayCheckSpacing.
func (rs *relaySet) checkSoon(now time.Time) {
	last := rs.lastCheck.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < relayCheckSpacing {
		return
	}
	if rs.lastCheck.CompareAndSwap(last, now.UnixNano()) {
		// Read the interfaces now: the monitor reports a change only
		// after its debounce (250 ms), and the peer saw ours first.
		rs.checkConnections(readHosts())
	}
}
