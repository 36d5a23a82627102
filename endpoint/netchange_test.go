package endpoint

import (
	"errors"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
)

// routeAs makes e see every route leave from src (or fail with err while
// it is set), as if the network had changed under it.
type routeAs struct {
	src atomic.Pointer[netip.Addr]
	err atomic.Pointer[error]
}

func (r *routeAs) install(e *Endpoint) {
	f := func(netip.AddrPort) (netip.Addr, error) {
		if err := r.err.Load(); err != nil {
			return netip.Addr{}, *err
		}
		return *r.src.Load(), nil
	}
	e.routeHook.Store(&f)
}

// dialDirectEcho dials srv's socket address (and relays, if any) from
// cli and echoes once on a new stream.
func dialDirectEcho(t *testing.T, cli, srv *Endpoint, relays ...string) (*quic.Conn, *quic.Stream) {
	t.Helper()
	ctx := testCtx(t, 20*time.Second)
	c, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: relays, Addrs: []netip.AddrPort{srv.LocalAddr()}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "before")
	return c, s
}

// waitCount waits until n reaches want.
func waitCount(t *testing.T, what string, n *atomic.Uint64, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: count %d, want %d", what, n.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func directPathIDs(ps []quic.PathInfo) []quic.PathID {
	var ids []quic.PathID
	for _, p := range ps {
		if usablePath(p) && !p.Addr.IsRelay() {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// TestNetworkChangeMovesDirectPath: a client whose route to the server
// now leaves from another local address replaces its direct path by a
// new one to the same address and abandons the old one; the stream goes
// on. A change that leaves the route's source alone moves nothing, and
// while there is no route at all the client waits for one.
func TestNetworkChangeMovesDirectPath(t *testing.T) {
	srv := bind(t, Options{ALPNs: []string{testALPN}, DisableNetworkMonitor: true})
	serveEcho(srv)
	cli := bind(t, Options{DisableNetworkMonitor: true})
	var route routeAs
	lo := netip.MustParseAddr("127.0.0.1")
	route.src.Store(&lo)
	route.install(cli)
	c, s := dialDirectEcho(t, cli, srv)
	first := directPathIDs(c.Paths())
	if len(first) != 1 {
		t.Fatalf("direct paths %v", first)
	}
	m := cli.conns.get(c)
	waitCount(t, "the manager notes the path's source", &m.passes, 1)

	cli.NetworkChanged(true) // same source: nothing to move
	waitCount(t, "the manager handles the change", &m.netPasses, 1)
	if got := cli.Metrics().PathsMoved.Load(); got != 0 || !slices.Equal(directPathIDs(c.Paths()), first) {
		t.Fatalf("moved %d paths without a new source; paths %+v", got, c.Paths())
	}

	// No route for a while, then one from a new address.
	noRoute := errors.New("network is unreachable")
	route.err.Store(&noRoute)
	cli.NetworkChanged(true)
	waitCount(t, "the manager handles the change", &m.netPasses, 2)
	after := m.passes.Load()
	waitCount(t, "a retry without a route", &m.passes, after+1)
	if got := cli.Metrics().PathsMoved.Load(); got != 0 {
		t.Fatalf("moved %d paths without a route", got)
	}
	moved := netip.MustParseAddr("127.0.0.2")
	route.src.Store(&moved)
	route.err.Store(nil)
	start := time.Now()
	waitPath(t, c, 5*time.Second, "a new direct path replaces the old one", func(ps []quic.PathInfo) bool {
		ids := directPathIDs(ps)
		return len(ids) == 1 && ids[0] != first[0]
	})
	t.Logf("path %v replaced by %v after %v", first, directPathIDs(c.Paths()), time.Since(start))
	if got := cli.Metrics().PathsMoved.Load(); got != 1 {
		t.Fatalf("paths_moved = %d", got)
	}
	echoOnce(t, s, "after")
	if c.RemoteAddr().UDP != srv.LocalAddr() {
		t.Fatalf("data path %v, want %v", c.RemoteAddr(), srv.LocalAddr())
	}
}

// TestNetworkChangeServerKeepsPaths: a server cannot open paths; a
// network change re-reads its candidates and leaves its paths alone.
func TestNetworkChangeServerKeepsPaths(t *testing.T) {
	srv := bind(t, Options{ALPNs: []string{testALPN}, DisableNetworkMonitor: true})
	var route routeAs
	moved := netip.MustParseAddr("127.0.0.2")
	route.src.Store(&moved)
	route.install(srv)
	serveEcho(srv)
	cli := bind(t, Options{DisableNetworkMonitor: true})
	_, s := dialDirectEcho(t, cli, srv)
	v := srv.candidateVersion()
	srv.NetworkChanged(false)
	if srv.candidateVersion() == v {
		t.Fatal("a network change left the candidate version")
	}
	var ms []*pathManager
	srv.conns.each(func(m *pathManager) { ms = append(ms, m) })
	if len(ms) != 1 {
		t.Fatalf("%d server path managers", len(ms))
	}
	waitCount(t, "the manager handles the change", &ms[0].netPasses, 1)
	echoOnce(t, s, "after")
	if got := srv.Metrics().PathsMoved.Load(); got != 0 {
		t.Fatalf("server moved %d paths", got)
	}
	if got := srv.Metrics().NetworkChanges.Load(); got != 1 {
		t.Fatalf("network_changes = %d", got)
	}
}

// TestPortMapWiring: the preset's port mapping runs for a socket that can
// be mapped, never for loopback, and not at all with DisablePortMapping
// or the Minimal preset. (The mapping itself is tested against miniupnpd
// in interop/natlab/roamlab.) The unspecified bind is only safe inside
// the test's loopback-only namespace: there is no gateway to ask.
func TestPortMapWiring(t *testing.T) {
	mapping := Preset{Name: "mapping", PortMapping: true}
	if st := bind(t, Options{Preset: mapping}).PortMap(); st.Enabled {
		t.Fatalf("loopback socket: %+v", st)
	}
	interop.RequireNetns(t)
	for _, c := range []struct {
		opts Options
		want bool
	}{
		{Options{Preset: mapping, BindAddr: "0.0.0.0:0"}, true},
		{Options{Preset: mapping, BindAddr: "0.0.0.0:0", DisablePortMapping: true}, false},
		{Options{Preset: Minimal(), BindAddr: "0.0.0.0:0"}, false},
	} {
		st := bind(t, c.opts).PortMap()
		if st.Enabled != c.want || st.External.IsValid() || st.Protocol != "" {
			t.Errorf("%+v: %+v", c.opts, st)
		}
	}
}

// TestNetworkChangeAbandonRidesSuccessor: when a network change took the
// relay down with the old direct path, the PATH_ABANDON of the moved path
// must travel on its successor. Were the successor still Backup when the
// old path is abandoned, the relay path would be the data path of that
// moment and the abandon would be lost with it: the server would go on
// sending on the dead path until its path idle timeout.
func TestNetworkChangeAbandonRidesSuccessor(t *testing.T) {
	r := startRelay(t)
	srv := bind(t, Options{RelayURL: r.URL, ALPNs: []string{testALPN}, DisableNetworkMonitor: true, noNatTraversal: true})
	ctx := testCtx(t, 20*time.Second)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	serveEcho(srv)
	cli := bind(t, Options{DisableNetworkMonitor: true, noNatTraversal: true})
	var route routeAs
	lo := netip.MustParseAddr("127.0.0.1")
	route.src.Store(&lo)
	route.install(cli)
	c, s := dialDirectEcho(t, cli, srv, r.URL)
	waitPath(t, c, 10*time.Second, "relay backup path", func(ps []quic.PathInfo) bool {
		return slices.ContainsFunc(ps, func(p quic.PathInfo) bool { return usablePath(p) && p.Addr.IsRelay() })
	})
	old := directPathIDs(c.Paths())
	if len(old) != 1 {
		t.Fatalf("direct paths %v", old)
	}
	m := cli.conns.get(c)
	waitCount(t, "the manager notes the path's source", &m.passes, 1)

	r.stop() // the change took the relay with it
	moved := netip.MustParseAddr("127.0.0.2")
	route.src.Store(&moved)
	cli.NetworkChanged(true)
	waitPath(t, acceptedConn(t, srv), 3*time.Second, "the server learns the old path is abandoned", func(ps []quic.PathInfo) bool {
		i := slices.IndexFunc(ps, func(p quic.PathInfo) bool { return p.ID == old[0] })
		return i < 0 || ps[i].Abandoned
	})
	echoOnce(t, s, "after")
}

// TestNetworkChangeMigratesSinglePath: a client without multipath whose
// route to the server now leaves from another local address migrates
// actively: a new connection ID, validated by the server's answer to its
// challenge, and the stream goes on. A change that leaves the route's
// source alone migrates nothing.
func TestNetworkChangeMigratesSinglePath(t *testing.T) {
	srv := bind(t, Options{ALPNs: []string{testALPN}, DisableNetworkMonitor: true, DisableMultipath: true})
	serveEcho(srv)
	cli := bind(t, Options{DisableNetworkMonitor: true, DisableMultipath: true})
	var route routeAs
	lo := netip.MustParseAddr("127.0.0.1")
	route.src.Store(&lo)
	route.install(cli)
	c, s := dialDirectEcho(t, cli, srv)
	if c.Multipath() {
		t.Fatal("multipath negotiated")
	}
	cli.NetworkChanged(true) // same source
	if got := cli.Metrics().PathsMoved.Load(); got != 0 {
		t.Fatalf("migrated %d times without a new source", got)
	}
	moved := netip.MustParseAddr("127.0.0.2")
	route.src.Store(&moved)
	cli.NetworkChanged(true)
	if got := cli.Metrics().PathsMoved.Load(); got != 1 {
		t.Fatalf("paths_moved = %d after the source changed", got)
	}
	echoOnce(t, s, "after")
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Migrations != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the migration was not validated: %+v", c.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if got := c.Stats().MigrationsReverted; got != 0 {
		t.Fatalf("%d migrations reverted", got)
	}
}
