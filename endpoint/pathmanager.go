package endpoint

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

const (
	// pathRecheck is the manager's safety wake-up. Path events, candidate
	// changes and relay status changes wake it at once; what has no event
	// is RTT drift, which can reorder paths of one kind (selectPath) and
	// decides whether periodic punching is needed (hasGoodDirect), and the
	// retry spacing of the punch, repair and move schedules.
	pathRecheck = 1 * time.Second
	// relayBackupTimeout bounds opening a relay path.
	relayBackupTimeout = 10 * time.Second
	// relayRepairInterval spaces attempts to replace relay paths whose
	// relay went down.
	relayRepairInterval = 1 * time.Second
)

// pathManager runs the path policy of one multipath connection: it
// hole-punches (client) or announces candidates (server), keeps the best
// usable path Available and the others Backup, closes redundant direct
// paths (client) and reports when the selected path changes.
type pathManager struct {
	e      *Endpoint
	c      *quic.Conn
	client bool
	relays []string // client: the peer's relay URLs from the dial (normalised)
	start  time.Time

	selected    quic.PathID
	hasSelected bool
	punch       punchSchedule
	localVer    uint64           // Endpoint.candidateVersion local reflects
	local       []netip.AddrPort // client: our candidates
	haveLocal   bool

	lastRepair time.Time
	repairHome string // our home relay at the last repair
	repairing  atomic.Bool

	netChanged atomic.Bool // NetworkChanged happened; the loop reacts
	move       pathMover   // client: direct paths to move after a network change

	peerRechecks uint64 // the connection's PeerRechecks the loop reacted to

	changed chan struct{} // signalled (cap 1) when the selected path changes
	kick    chan struct{} // cap 1: candidates, the network or a relay changed
	// passes and netPasses count finished loop passes, all and those that
	// handled a network change, so tests can wait for them.
	passes, netPasses atomic.Uint64
}

// managePaths starts the path manager of c if multipath was negotiated;
// it returns nil otherwise. relays are the peer's relay URLs, if known.
func (e *Endpoint) managePaths(c *quic.Conn, client bool, relays []string) *pathManager {
	if !c.Multipath() {
		if client {
			e.singles.track(e, c) // it migrates on a network change instead
		}
		return nil
	}
	m := &pathManager{
		e: e, c: c, client: client, start: time.Now(),
		changed: make(chan struct{}, 1), kick: make(chan struct{}, 1),
	}
	for _, u := range relays {
		if n, err := identity.NormalizeRelayURL(u); err == nil && !slices.Contains(m.relays, n) {
			m.relays = append(m.relays, n)
		}
	}
	e.conns.add(c, m)
	go m.run()
	return m
}

func (m *pathManager) run() {
	defer m.e.conns.remove(m.c)
	serverNAT := m.c.NatTraversal() && !m.client
	if serverNAT {
		m.localVer = m.e.candidateVersion()
		m.announce()
	}
	if m.client && len(m.relays) > 0 && !m.c.RemoteAddr().IsRelay() {
		go m.openRelayBackup()
	}
	timer := time.NewTimer(pathRecheck)
	defer timer.Stop()
	for {
		now := time.Now()
		pathEvent := m.c.PathsChanged() // before Paths, so no change is missed
		paths := m.c.Paths()
		m.maybeCheckRelays(now)
		if m.client && m.c.NatTraversal() {
			m.maybePunch(now, paths)
		}
		netChange := m.netChanged.Swap(false)
		if netChange {
			m.onNetworkChange(now)
		}
		if m.client {
			m.maybeRepair(now, paths)
			if m.maybeMove(now, paths) {
				paths = m.c.Paths() // a replaced path is gone
			}
		}
		if serverNAT {
			if v := m.e.candidateVersion(); v != m.localVer {
				m.localVer = v
				m.announce()
			}
		}
		m.apply(paths)
		if netChange {
			m.netPasses.Add(1)
		}
		m.passes.Add(1)
		timer.Reset(m.nextWake(now))
		select {
		case <-pathEvent:
		case <-m.kick:
		case <-timer.C:
		case <-m.c.Done():
			return
		}
	}
}

// nextWake is how long the loop may sleep without an event: until a
// refused punch may be retried, the next move check, or pathRecheck.
func (m *pathManager) nextWake(now time.Time) time.Duration {
	at := now.Add(pathRecheck)
	if f := m.punch.failedAt; !f.IsZero() {
		if retry := f.Add(roundErrorRetry); retry.After(now) && retry.Before(at) {
			at = retry
		}
	}
	if mv := &m.move; mv.pending && mv.next.Before(at) {
		at = mv.next
	}
	return max(at.Sub(now), time.Millisecond)
}

// wake makes the loop run now (coalesced).
func (m *pathManager) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// candidatesChanged wakes every path manager: our candidates (a QAD
// address, a port mapping) or a relay's state changed.
func (e *Endpoint) candidatesChanged() {
	e.refreshNatAddresses()
	e.conns.each((*pathManager).wake)
}

// refreshNatAddresses gives quic the candidates a new server connection
// announces as its handshake completes (a server with NAT traversal only).
func (e *Endpoint) refreshNatAddresses() {
	if e.announces {
		e.q.SetNatAddresses(e.Candidates())
	}
}

// announce brings the client's view of our candidates up to date
// (server side): new ones are added, ones gone (an old public address)
// removed.
func (m *pathManager) announce() {
	cands := m.e.Candidates()
	added, removed := diffAddrs(m.c.NatLocalAddresses(), cands)
	for _, ap := range removed {
		if err := m.c.RemoveNatAddress(ap); err != nil {
			m.e.log.Debug("endpoint: withdrawing candidate", "addr", ap, "err", err)
		}
	}
	for _, ap := range added {
		if err := m.c.AddNatAddress(ap); err != nil {
			m.e.log.Debug("endpoint: announcing candidate", "addr", ap, "err", err)
		}
	}
}

// diffAddrs lists what is in cur but not in prev, and what is in prev but
// not in cur.
func diffAddrs(prev, cur []netip.AddrPort) (added, removed []netip.AddrPort) {
	for _, ap := range cur {
		if !slices.Contains(prev, ap) {
			added = append(added, ap)
		}
	}
	for _, ap := range prev {
		if !slices.Contains(cur, ap) {
			removed = append(removed, ap)
		}
	}
	return added, removed
}

// openRelayBackup adds the relay path to a connection that started
// direct, so that it survives the direct path dying.
func (m *pathManager) openRelayBackup() {
	ctx, cancel := context.WithTimeout(m.c.Context(), relayBackupTimeout)
	defer cancel()
	id, err := m.c.OpenPath(ctx, quic.Addr{Relay: quic.RelayAddr{URL: m.relays[0], Peer: m.c.RemoteID()}})
	if err != nil {
		m.e.log.Debug("endpoint: relay backup path", "peer", m.c.RemoteID().Short(), "err", err)
		return
	}
	_ = m.c.SetPathStatus(id, false)
}

// maybePunch starts a NAT traversal round when one is due (client side;
// see punchSchedule): also when our own candidates changed (a QAD
// address, a port mapping, a network change), since the peer's probes
// must go to the new ones.
func (m *pathManager) maybePunch(now time.Time, paths []quic.PathInfo) {
	remote := m.c.NatRemoteAddresses()
	if len(remote) == 0 {
		return // nothing to punch to yet; their arrival is a path event
	}
	if m.punch.rounds == 0 && !m.punch.force && allOpen(remote, paths) {
		// Dialled direct to every server candidate: a first round could
		// only open direct paths the client closes again.
		return
	}
	fresh := false
	if v := m.e.candidateVersion(); v != m.localVer || !m.haveLocal {
		m.localVer, m.local, m.haveLocal, fresh = v, m.e.Candidates(), true, true
	}
	if !m.punch.due(now, remote, m.local, hasGoodDirect(paths)) {
		return
	}
	if !fresh {
		// Re-read: without a network monitor no version tells of a
		// change. Reading the interfaces is several netlink dumps.
		m.local = m.e.Candidates()
	}
	if err := m.c.StartNatTraversalRound(m.local); err != nil {
		m.punch.failed(now)
		m.e.log.Debug("endpoint: hole-punching round", "peer", m.c.RemoteID().Short(), "err", err)
		return
	}
	m.punch.started(now, remote, m.local)
	m.e.metrics.HolepunchRounds.Add(1)
	m.e.log.Debug("endpoint: hole-punching round", "peer", m.c.RemoteID().Short(), "round", m.punch.rounds, "remote", remote)
}

// apply selects the data path, sets statuses and closes redundant direct
// paths.
func (m *pathManager) apply(paths []quic.PathInfo) {
	// A relay path whose relay client is down carries nothing: prefer any
	// other (a repaired relay path, a direct one).
	up := slices.DeleteFunc(slices.Clone(paths), func(p quic.PathInfo) bool {
		return p.Addr.IsRelay() && m.e.relays.down(p.Addr.Relay.URL)
	})
	id, ok := selectPath(up, m.selected, m.hasSelected)
	if !ok {
		return
	}
	for _, p := range paths {
		if !usablePath(p) {
			continue
		}
		want := quic.PathBackup
		if p.ID == id {
			want = quic.PathAvailable
		}
		if p.Status != want {
			_ = m.c.SetPathStatus(p.ID, want == quic.PathAvailable)
		}
	}
	if m.client && !m.move.busy() {
		// (A direct path being replaced stays until its successor is up.)
		for _, r := range redundantDirect(paths, id) {
			_ = m.c.ClosePath(r, quic.AbandonPathApplication)
		}
	}
	if m.hasSelected && id == m.selected {
		return
	}
	prev, hadPrev := pathInfo(paths, m.selected)
	hadPrev = hadPrev && m.hasSelected
	m.selected, m.hasSelected = id, true
	p, _ := pathInfo(paths, id)
	if hadPrev && prev.Addr.IsRelay() && !p.Addr.IsRelay() {
		m.e.metrics.PathsUpgraded.Add(1)
	}
	if hadPrev {
		m.e.log.Info("endpoint: path selected", "peer", m.c.RemoteID().Short(),
			"path", p.ID, "addr", p.Addr.String(), "relay", p.Addr.IsRelay(),
			"rtt", p.RTT, "since_connect", time.Since(m.start))
	}
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// connRegistry maps live multipath connections to their path managers.
type connRegistry struct {
	mu sync.Mutex
	m  map[*quic.Conn]*pathManager
}

func (r *connRegistry) add(c *quic.Conn, m *pathManager) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[*quic.Conn]*pathManager)
	}
	r.m[c] = m
}

func (r *connRegistry) remove(c *quic.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, c)
}

// each calls f for every live connection's manager.
func (r *connRegistry) each(f func(*pathManager)) {
	r.mu.Lock()
	ms := make([]*pathManager, 0, len(r.m))
	for _, m := range r.m {
		ms = append(ms, m)
	}
	r.mu.Unlock()
	for _, m := range ms {
		f(m)
	}
}

func (r *connRegistry) get(c *quic.Conn) *pathManager {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[c]
}

// PathChanged returns a channel that receives (coalesced, never closed)
// when the path carrying c's data changes, such as from the relay to a
// hole-punched direct path; c.RemoteAddr then names the new path. It is
// nil for connections without multipath, whose path never changes.
func (e *Endpoint) PathChanged(c *quic.Conn) <-chan struct{} {
	if m := e.conns.get(c); m != nil {
		return m.changed
	}
	return nil
}
