package endpoint

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/quic"
)

// Hole-punching schedule (iroh's): a round when the connection starts and
// whenever the server's candidates change, and every upgradeInterval while
// no fast direct path exists; rounds with unchanged candidates are at
// least roundMinGap apart.
const (
	upgradeInterval = 60 * time.Second
	roundMinGap     = 5 * time.Second
	// pathPollInterval is how often the manager looks at a connection's
	// paths. The quic package has no path event stream, and a poll is a
	// lock and a small copy, so this is cheap.
	pathPollInterval = 50 * time.Millisecond
	// relayBackupTimeout bounds opening the relay backup path.
	relayBackupTimeout = 10 * time.Second
)

// pathManager runs the path policy of one multipath connection: it
// hole-punches (client) or announces candidates (server), keeps the best
// usable path Available and the others Backup, closes redundant direct
// paths (client) and reports when the selected path changes.
type pathManager struct {
	e      *Endpoint
	c      *quic.Conn
	client bool
	relay  quic.Addr // client: the peer's relay path, zero if unknown
	start  time.Time

	selected    quic.PathID
	hasSelected bool
	lastRemote  []netip.AddrPort
	lastRound   time.Time
	rounds      int
	localVer    uint64           // Endpoint.qadVersion our candidates reflect
	announced   []netip.AddrPort // server: candidates the peer was told

	changed chan struct{} // signalled (cap 1) when the selected path changes
}

// managePaths starts the path manager of c if multipath was negotiated;
// it returns nil otherwise. relay is the peer's relay path, if known.
func (e *Endpoint) managePaths(c *quic.Conn, client bool, relay quic.Addr) *pathManager {
	if !c.Multipath() {
		return nil
	}
	m := &pathManager{
		e: e, c: c, client: client, relay: relay, start: time.Now(),
		changed: make(chan struct{}, 1),
	}
	e.conns.add(c, m)
	go m.run()
	return m
}

func (m *pathManager) run() {
	defer m.e.conns.remove(m.c)
	serverNAT := m.c.NatTraversal() && !m.client
	if serverNAT {
		m.localVer = m.e.qadVersion()
		m.announce()
	}
	if m.client && m.relay.IsValid() && !m.c.RemoteAddr().IsRelay() {
		go m.openRelayBackup()
	}
	tick := time.NewTicker(pathPollInterval)
	defer tick.Stop()
	for {
		now := time.Now()
		paths := m.c.Paths()
		if m.client && m.c.NatTraversal() {
			m.maybePunch(now, paths)
		}
		if serverNAT {
			if v := m.e.qadVersion(); v != m.localVer {
				m.localVer = v
				m.announce()
			}
		}
		m.apply(paths)
		select {
		case <-tick.C:
		case <-m.c.Done():
			return
		}
	}
}

// announce brings the client's view of our candidates up to date
// (server side): new ones are added, ones gone (an old public address)
// removed.
func (m *pathManager) announce() {
	cands := m.e.Candidates()
	added, removed := diffAddrs(m.announced, cands)
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
	m.announced = cands
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
	id, err := m.c.OpenPath(ctx, m.relay)
	if err != nil {
		m.e.log.Debug("endpoint: relay backup path", "peer", m.c.RemoteID().Short(), "err", err)
		return
	}
	_ = m.c.SetPathStatus(id, false)
}

// maybePunch starts a NAT traversal round when one is due (client side):
// also when our own public address (QAD) changed, since the peer's probes
// must go to the new one.
func (m *pathManager) maybePunch(now time.Time, paths []quic.PathInfo) {
	remote := m.c.NatRemoteAddresses()
	slices.SortFunc(remote, netip.AddrPort.Compare)
	ver := m.e.qadVersion()
	changed := !slices.Equal(remote, m.lastRemote) && len(remote) > 0 ||
		ver != m.localVer && m.rounds > 0
	due := m.rounds == 0 || changed ||
		now.Sub(m.lastRound) >= upgradeInterval && !hasGoodDirect(paths)
	if !due || (!changed && m.rounds > 0 && now.Sub(m.lastRound) < roundMinGap) {
		return
	}
	m.lastRemote, m.localVer = remote, ver
	if err := m.c.StartNatTraversalRound(m.e.Candidates()); err != nil {
		m.e.log.Debug("endpoint: hole-punching round", "peer", m.c.RemoteID().Short(), "err", err)
		return
	}
	m.rounds++
	m.lastRound = now
	m.e.metrics.HolepunchRounds.Add(1)
	m.e.log.Debug("endpoint: hole-punching round", "peer", m.c.RemoteID().Short(), "round", m.rounds, "remote", remote)
}

// apply selects the data path, sets statuses and closes redundant direct
// paths.
func (m *pathManager) apply(paths []quic.PathInfo) {
	id, ok := selectPath(paths, m.selected, m.hasSelected)
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
	if m.client {
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
