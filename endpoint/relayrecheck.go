package endpoint

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
