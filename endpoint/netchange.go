package endpoint

import (
	"github.com/alkdev/irohspoke/nat/netmon"
)

// startNetmon runs the network monitor, which calls NetworkChanged on
// every change of the interfaces, addresses or default routes. A monitor
// that cannot start (no netlink here) is logged, not fatal: the
// application can still call NetworkChanged.
func (e *Endpoint) startNetmon() {
	mon, err := netmon.New(netmon.Options{})
	if err != nil {
		e.log.Warn("endpoint: no network monitor", "err", err)
		return
	}
	e.mon, e.monDone = mon, make(chan struct{})
	// The monitor's snapshots are the addresses from here on: its
	// baseline now, each change's below.
	e.hosts.cache(hostAddrsOf(mon.State()))
	go func() {
		defer close(e.monDone)
		for ev := range mon.Events() {
			e.log.Info("endpoint: network changed", "major", ev.Major)
			e.hosts.cache(hostAddrsOf(ev.New))
			e.networkChanged(ev.Major)
		}
	}()
}

func (e *Endpoint) stopNetmon() {
	if e.mon == nil {
		return
	}
	_ = e.mon.Close()
	<-e.monDone
}

// NetworkChanged tells the endpoint that the network changed: an
// interface, address or route (major: the default route or a usable
// address). The endpoint's own monitor calls it (unless
// Options.DisableNetworkMonitor); calling it more often is harmless.
//
// As iroh, it re-reads the interface addresses (Addrs, Candidates) and
// re-measures the relays (a full report after a major change, which may
// move the home relay); after a major change it also pings every relay
// connection (a dead one reconnects), drops the public addresses QAD
// learnt on the old network and redials QAD. The port mapping is checked
// again (a new gateway gets a new mapping), the addresses are
// republished, and every multipath connection reacts: as client it moves
// each direct path whose local address changed to a new path from the
// new address and starts a hole-punching round with the new candidates;
// as server it announces the new candidates. A direct client connection
// without multipath whose local address changed migrates (RFC 9000 §9.2). The UDP socket is not
// rebound: on Linux a socket bound to the unspecified address (the
// default) follows the routes, and one bound to an address that went away
// works again when the address comes back.
func (e *Endpoint) NetworkChanged(major bool) {
	e.hosts.refresh()
	e.networkChanged(major)
}

// networkChanged is NetworkChanged once e.hosts is current.
func (e *Endpoint) networkChanged(major bool) {
	if e.sock.closing.Load() {
		return
	}
	e.metrics.NetworkChanges.Add(1)
	e.netVersion.Add(1)
	if major {
		e.relays.checkConnections(e.hosts.get())
		e.forgetObserved()
	}
	e.homes.networkChanged(major)
	// The paths first: their move is what the application waits for.
	e.conns.each(func(m *pathManager) { m.networkChanged() })
	e.singles.networkChanged(e)
	if e.pmap != nil {
		// Not waited for: the mapper takes commands only between its
		// probes, and one probe can hold it for a second (a UPnP search;
		// 230 ms in roamlab, all of it before any path moved).
		go e.pmap.m.OnNetworkChange(major)
	}
	e.refreshNatAddresses()
	e.publish()
}

// candidateVersion grows whenever our candidates may have changed: a new
// QAD address, a new port mapping, a network change. Path managers compare
// it with one load per poll.
func (e *Endpoint) candidateVersion() uint64 {
	return e.qadVersion() + e.mappedVersion() + e.netVersion.Load()
}
