package endpoint

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/quic"
)

// Moving paths after a network change (client side), as noq's
// handle_network_change with iroh's hint: a direct path whose local
// address is gone cannot recover, so a new path to the same remote
// address is opened from where we are now and the old one is abandoned
// once the new one is validated. The new path has its own connection IDs
// and is validated from the new address, so the peer sees a new path
// rather than a migration it might refuse; with NATs on both sides a
// hole-punching round with our new candidates follows. Paths whose local
// address did not change are left alone (noq pings them), as are relay
// paths (the relay client reconnects on its own).
//
// Our socket is bound to one address for all paths (usually the
// unspecified one), so a path's local address is the kernel's route
// source toward its remote: looked up when the path first appears and
// again after the change.
const (
	// moveRetryMin and moveRetryMax space the checks while there is no
	// route yet (an interface is up without its gateway); moveGiveUp ends
	// them. iroh's backoff: 100 ms to 1 s, for at most 5 s.
	moveRetryMin = 100 * time.Millisecond
	moveRetryMax = 1 * time.Second
	moveGiveUp   = 5 * time.Second
	// moveTimeout bounds opening one replacement path.
	moveTimeout = 10 * time.Second
)

// pathMover is a client path manager's record of where its direct paths
// leave from, and the move check a network change asks for.
type pathMover struct {
	sources map[quic.PathID]netip.Addr // local address each direct path uses
	pending bool                       // a network change is not handled yet
	since   time.Time                  // when it was asked for
	next    time.Time                  // when to check again
	wait    time.Duration              // backoff while there is no route
	active  atomic.Int32               // replacements in flight

	mu    sync.Mutex
	ready []handover // replacements validated, for the loop to finish
}

// handover is a validated replacement waiting for the loop to retire the
// path it replaces.
type handover struct {
	old   quic.PathInfo
	new   quic.PathID
	start time.Time
}

// busy: a replacement is in flight, so two direct paths may coexist.
func (mv *pathMover) busy() bool { return mv.active.Load() > 0 }

// networkChanged asks the manager's loop to react (NetworkChanged).
func (m *pathManager) networkChanged() {
	m.netChanged.Store(true)
	m.wake()
}

// onNetworkChange runs in the loop: a client checks its direct paths and
// punches again at once; a server's announcements follow its candidates.
func (m *pathManager) onNetworkChange(now time.Time) {
	if !m.client {
		return
	}
	if m.c.NatTraversal() {
		m.punch.forceNext()
	}
	mv := &m.move
	mv.pending, mv.since, mv.next, mv.wait = true, now, now, moveRetryMin
}

// maybeMove records the local address of new direct paths and, after a
// network change, replaces those that now leave from another address. It
// reports whether it retired a replaced path (paths is then out of date).
func (m *pathManager) maybeMove(now time.Time, paths []quic.PathInfo) bool {
	mv := &m.move
	handedOver := m.finishMoves()
	m.noteSources(paths)
	if !mv.pending || now.Before(mv.next) {
		return handedOver
	}
	var stale []quic.PathInfo
	for _, p := range paths {
		if !usablePath(p) || p.Addr.IsRelay() {
			continue
		}
		src, err := m.e.routeSource(p.Addr.UDP)
		if err != nil {
			if now.Sub(mv.since) >= moveGiveUp {
				mv.pending = false
				m.e.log.Debug("endpoint: no route after the network change", "peer", m.c.RemoteID().Short(), "err", err)
				return handedOver
			}
			mv.next, mv.wait = now.Add(mv.wait), min(2*mv.wait, moveRetryMax)
			return handedOver
		}
		if prev, ok := mv.sources[p.ID]; ok && prev != src {
			stale = append(stale, p)
		}
	}
	mv.pending = false
	for _, p := range stale {
		mv.active.Add(1)
		go m.replacePath(p)
	}
	return handedOver
}

// noteSources looks up the local address of direct paths not seen yet
// and forgets paths that are gone.
func (m *pathManager) noteSources(paths []quic.PathInfo) {
	mv := &m.move
	if mv.sources == nil {
		mv.sources = make(map[quic.PathID]netip.Addr)
	}
	live := make(map[quic.PathID]bool, len(paths))
	for _, p := range paths {
		if !usablePath(p) || p.Addr.IsRelay() {
			continue
		}
		live[p.ID] = true
		if _, ok := mv.sources[p.ID]; ok {
			continue
		}
		if src, err := m.e.routeSource(p.Addr.UDP); err == nil {
			mv.sources[p.ID] = src
		}
	}
	for id := range mv.sources {
		if !live[id] {
			delete(mv.sources, id)
		}
	}
}

// replacePath opens a path to old's remote address from our current
// address; once it is validated the loop retires old (finishMoves).
func (m *pathManager) replacePath(old quic.PathInfo) {
	ctx, cancel := context.WithTimeout(m.c.Context(), moveTimeout)
	defer cancel()
	start := time.Now()
	id, err := m.c.OpenPath(ctx, old.Addr)
	if err != nil {
		m.move.active.Add(-1)
		m.e.log.Debug("endpoint: replacing a path after the network change", "peer", m.c.RemoteID().Short(), "addr", old.Addr.String(), "err", err)
		return
	}
	m.move.mu.Lock()
	m.move.ready = append(m.move.ready, handover{old: old, new: id, start: start})
	m.move.mu.Unlock()
	m.wake()
}

// finishMoves runs in the loop: each validated replacement takes over its
// old path's status, then the old path is abandoned. In that order, and
// with no apply in between to demote the newcomer, the PATH_ABANDON
// travels on the replacement: were the newcomer still Backup, the data
// path of that moment would be the relay path, which a network change
// usually took down too, and the peer would go on sending on the dead
// path until the abandon got through some other way.
func (m *pathManager) finishMoves() bool {
	mv := &m.move
	mv.mu.Lock()
	ready := mv.ready
	mv.ready = nil
	mv.mu.Unlock()
	for _, h := range ready {
		_ = m.c.SetPathStatus(h.new, h.old.Status != quic.PathBackup)
		_ = m.c.ClosePath(h.old.ID, quic.AbandonPathApplication)
		mv.active.Add(-1)
		m.e.metrics.PathsMoved.Add(1)
		m.e.log.Info("endpoint: path moved to our new address", "peer", m.c.RemoteID().Short(),
			"addr", h.old.Addr.String(), "old_path", h.old.ID, "new_path", h.new, "took", time.Since(h.start))
	}
	return len(ready) > 0
}

// routeSource is routeSource, or what a test made it.
func (e *Endpoint) routeSource(remote netip.AddrPort) (netip.Addr, error) {
	if f := e.routeHook.Load(); f != nil {
		return (*f)(remote)
	}
	return routeSource(remote)
}

// routeSource is the local address the kernel sends from toward remote.
// Connecting a UDP socket chooses it without sending anything.
func routeSource(remote netip.AddrPort) (netip.Addr, error) {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	network := "udp4"
	if remote.Addr().Is6() {
		network = "udp6"
	}
	c, err := net.DialUDP(network, nil, net.UDPAddrFromAddrPort(remote))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// singleMoves are the client connections without multipath: on a network
// change whose route toward the peer now leaves from another local
// address, the connection migrates actively (quic.Conn.Migrate) rather
// than wait for the peer to notice the new source address.
type singleMoves struct {
	mu      sync.Mutex
	sources map[*quic.Conn]netip.Addr // route source at the last check
}

// track starts watching a direct single-path client connection.
func (s *singleMoves) track(e *Endpoint, c *quic.Conn) {
	remote := c.RemoteAddr()
	if remote.IsRelay() {
		return
	}
	src, err := e.routeSource(remote.UDP)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.sources == nil {
		s.sources = make(map[*quic.Conn]netip.Addr)
	}
	s.sources[c] = src
	s.mu.Unlock()
	go func() {
		<-c.Done()
		s.mu.Lock()
		delete(s.sources, c)
		s.mu.Unlock()
	}()
}

// networkChanged migrates the connections whose route source changed. A
// connection with no route yet is looked at again on the next change
// (the route appearing is one).
func (s *singleMoves) networkChanged(e *Endpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, prev := range s.sources {
		src, err := e.routeSource(c.RemoteAddr().UDP)
		if err != nil || src == prev {
			continue
		}
		s.sources[c] = src
		if err := c.Migrate(); err != nil {
			e.log.Debug("endpoint: migrating after the network change", "peer", c.RemoteID().Short(), "err", err)
			continue
		}
		e.metrics.PathsMoved.Add(1)
		e.log.Info("endpoint: connection migrated to our new address", "peer", c.RemoteID().Short(), "from", prev, "to", src)
	}
}
