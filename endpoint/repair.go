package endpoint

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// Relay path repair (client side; a QUIC server cannot open paths). When
// every path of a connection runs through relays we are no longer
// connected to (the peer's home relay died, and the peer has failed over
// to another), the client opens a relay path through the relays where the
// peer may now be: the ones it was dialed with, the ones lookup now
// returns (the peer republishes its new home relay at once), and our own
// home relay (peers with the same relay map tend to fail over to the
// same one). Multipath keeps the connection, its streams and its data
// while the path changes; iroh instead redials the dead relay.

// needsRelayRepair: no usable path is direct or through a relay we are
// connected to, but some relay path exists.
func needsRelayRepair(paths []quic.PathInfo, down func(url string) bool) bool {
	relayPaths := false
	for _, p := range paths {
		if !usablePath(p) {
			continue
		}
		if !p.Addr.IsRelay() || !down(p.Addr.Relay.URL) {
			return false
		}
		relayPaths = true
	}
	return relayPaths
}

// repairTargets are the relay URLs worth a new path: normalised, known
// good (not down), without a usable path already, each once.
func repairTargets(urls []string, paths []quic.PathInfo, down func(url string) bool) []string {
	var out []string
	for _, u := range urls {
		n, err := identity.NormalizeRelayURL(u)
		if err != nil || down(n) || slices.Contains(out, n) {
			continue
		}
		has := slices.ContainsFunc(paths, func(p quic.PathInfo) bool {
			return usablePath(p) && p.Addr.IsRelay() && p.Addr.Relay.URL == n
		})
		if !has {
			out = append(out, n)
		}
	}
	return out
}

// maybeRepair starts a repair when one is needed and none ran within
// relayRepairInterval or since our home relay changed (a failover of
// ours often means the peer's relay went too).
func (m *pathManager) maybeRepair(now time.Time, paths []quic.PathInfo) {
	if !needsRelayRepair(paths, m.e.relays.down) {
		return
	}
	home := m.e.HomeRelay()
	if home == m.repairHome && now.Sub(m.lastRepair) < relayRepairInterval {
		return
	}
	if !m.repairing.CompareAndSwap(false, true) {
		return
	}
	m.lastRepair, m.repairHome = now, home
	go func() {
		defer m.repairing.Store(false)
		m.repairRelay()
	}()
}

// repairRelay opens relay paths to the peer through the candidate relays
// at once; once the first is up, paths through relays that are down are closed
// so that their unacknowledged data is sent again on the new path now
// rather than at its next loss timer.
func (m *pathManager) repairRelay() {
	ctx, cancel := context.WithTimeout(m.c.Context(), relayBackupTimeout)
	defer cancel()
	peer := m.c.RemoteID()
	urls := slices.Clone(m.relays)
	if r := m.e.resolver; r != nil {
		info, err := r.Resolve(ctx, peer)
		if err != nil {
			m.e.log.Debug("endpoint: relay repair lookup", "peer", peer.Short(), "err", err)
		}
		urls = append(urls, info.Relays...)
	}
	if home := m.e.HomeRelay(); home != "" {
		urls = append(urls, home)
	}
	targets := repairTargets(urls, m.c.Paths(), m.e.relays.down)
	if len(targets) == 0 {
		m.e.log.Debug("endpoint: relay repair: no relay to try", "peer", peer.Short(), "known", urls)
		return
	}
	var wg sync.WaitGroup
	var closeDead sync.Once
	for _, u := range targets {
		wg.Go(func() {
			_, err := m.c.OpenPath(ctx, quic.Addr{Relay: quic.RelayAddr{URL: u, Peer: peer}})
			if err != nil {
				m.e.log.Debug("endpoint: relay repair path", "peer", peer.Short(), "relay", u, "err", err)
				return
			}
			m.e.metrics.RelayPathsRepaired.Add(1)
			m.e.log.Info("endpoint: relay path repaired", "peer", peer.Short(), "relay", u,
				"since_connect", time.Since(m.start).Round(time.Millisecond))
			closeDead.Do(m.closeDeadRelayPaths)
		})
	}
	wg.Wait()
}

// closeDeadRelayPaths closes the paths through relays that are down.
func (m *pathManager) closeDeadRelayPaths() {
	for _, p := range m.c.Paths() {
		if usablePath(p) && p.Addr.IsRelay() && m.e.relays.down(p.Addr.Relay.URL) {
			_ = m.c.ClosePath(p.ID, quic.AbandonPathApplication)
		}
	}
}
