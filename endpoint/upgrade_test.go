package endpoint

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// waitPath waits until cond holds for c's paths, checking again at each
// path event, failing after d.
func waitPath(t *testing.T, c *quic.Conn, d time.Duration, what string, cond func([]quic.PathInfo) bool) {
	t.Helper()
	waitPathEvent(t, c, d, what, func() bool { return cond(c.Paths()) })
}

// waitPathEvent waits until cond holds, checking it again at each of c's
// path events (which include new NAT traversal candidates from the peer),
// failing after d.
func waitPathEvent(t *testing.T, c *quic.Conn, d time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		changed := c.PathsChanged() // before reading, so no change is missed
		if cond() {
			return
		}
		if err := c.Err(); err != nil {
			t.Fatalf("%s: connection closed (%v); paths %+v", what, err, c.Paths())
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("%s: timed out; paths %+v", what, c.Paths())
		}
	}
}

// TestMultipathUpgradeGoToGo: a client that knows only the server's relay
// connects through it, hole-punches to the server's announced address,
// moves its data to the direct path (the relay path stays as a Backup
// and carries no more data), and reports the change.
func TestMultipathUpgradeGoToGo(t *testing.T) {
	if testing.Short() {
		// Latency and path-share assertions do not hold under the race
		// detector's slowdown; make unit runs this test in full.
		t.Skip("timing-sensitive: runs without -short (make unit)")
	}
	r := startRelay(t)
	ctx := testCtx(t, 20*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{})
	cli := bind(t, Options{})
	start := time.Now()
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	if !c.Multipath() || !c.NatTraversal() {
		t.Fatalf("multipath %v, NAT traversal %v", c.Multipath(), c.NatTraversal())
	}
	changed := cli.PathChanged(c)
	if changed == nil {
		t.Fatal("no PathChanged channel for a multipath connection")
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "over the relay first")
	for !isDirect(c.RemoteAddr()) {
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("still on %v; paths %+v", c.RemoteAddr(), c.Paths())
		}
	}
	t.Logf("direct after %v: %+v", time.Since(start), c.Paths())
	waitPath(t, c, 5*time.Second, "relay Backup, direct Available", func(ps []quic.PathInfo) bool {
		relayBackup, directAvail := false, 0
		for _, p := range ps {
			if !usablePath(p) {
				continue
			}
			if p.Addr.IsRelay() {
				// Both ends' statuses, so the echo below starts settled.
				relayBackup = p.Status == quic.PathBackup && p.RemoteStatus == quic.PathBackup
			} else if p.Status == quic.PathAvailable {
				directAvail++
			}
		}
		return relayBackup && directAvail == 1
	})
	if got := cli.Metrics().PathsUpgraded.Load(); got != 1 {
		t.Fatalf("paths_upgraded = %d", got)
	}
	if cli.Metrics().HolepunchRounds.Load() == 0 {
		t.Fatal("no hole-punching round")
	}
	// The server follows: its data goes direct too once it sees the path.
	sc := acceptedConn(t, srv)
	waitPath(t, sc, 5*time.Second, "server on direct, relay Backup", func(ps []quic.PathInfo) bool {
		for _, p := range ps {
			if usablePath(p) && p.Addr.IsRelay() && p.Status != quic.PathBackup {
				return false
			}
		}
		return isDirect(sc.RemoteAddr())
	})

	// Data now flows directly: a bulk echo moves (almost) nothing through
	// the relay in either direction. 1 MB, so that the relay path's own
	// few packets (up to about a dozen each way when its PMTU search runs
	// meanwhile) stay far below the limit while data would be hundreds.
	relaySent, relayRecv := cli.Metrics().SendRelay.Load(), cli.Metrics().RecvDataRelay.Load()
	udpSent := cli.Metrics().SendIPv4.Load()
	echoOnce(t, s, string(make([]byte, 1_000_000)))
	dSent := cli.Metrics().SendRelay.Load() - relaySent
	dRecv := cli.Metrics().RecvDataRelay.Load() - relayRecv
	dUDP := cli.Metrics().SendIPv4.Load() - udpSent
	if dUDP < 100 {
		t.Fatalf("UDP sends %d during a 1 MB echo", dUDP)
	}
	// The Backup relay path still carries its own keep-alives, PMTU
	// probes and their acknowledgements; data on it would be about as
	// many packets as on the direct path.
	if limit := max(2, dUDP/20); dSent > limit || dRecv > limit {
		t.Fatalf("relay still carries data: %d sent, %d received during a 1 MB echo (%d UDP sends)", dSent, dRecv, dUDP)
	}
}

func isDirect(a quic.Addr) bool { return a.IsValid() && !a.IsRelay() }

// acceptedConn returns the server's connection, found through its path
// managers (serveEcho keeps the accepted connections to itself).
func acceptedConn(t *testing.T, e *Endpoint) *quic.Conn {
	t.Helper()
	e.conns.mu.Lock()
	defer e.conns.mu.Unlock()
	for c := range e.conns.m {
		return c
	}
	t.Fatal("server has no multipath connection")
	return nil
}

// TestMultipathDirectFirstKeepsRelayBackup: a connection whose handshake
// went direct gets the relay as a Backup path (failover, as iroh does),
// and a second direct path the application opens is closed as redundant.
func TestMultipathDirectFirstKeepsRelayBackup(t *testing.T) {
	r := startRelay(t)
	// 0.0.0.0: reachable as 127.0.0.1 and as 127.0.0.2, two distinct
	// direct paths. No hole punching, so that outside a namespace nothing
	// is sent to the host's other addresses.
	srv := bind(t, Options{BindAddr: "0.0.0.0:0", RelayURL: r.URL, ALPNs: []string{testALPN}, noNatTraversal: true})
	ctx := testCtx(t, 20*time.Second)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	serveEcho(srv)
	port := srv.LocalAddr().Port()
	cli := bind(t, Options{noNatTraversal: true})
	c, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: []string{r.URL},
		Addrs: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	if !isDirect(c.RemoteAddr()) {
		t.Fatalf("handshake path %v, want direct", c.RemoteAddr())
	}
	waitPath(t, c, 10*time.Second, "relay backup path", func(ps []quic.PathInfo) bool {
		for _, p := range ps {
			if usablePath(p) && p.Addr.IsRelay() && p.Status == quic.PathBackup {
				return true
			}
		}
		return false
	})
	second := quic.UDPAddr(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), port))
	// The manager may close the redundant path as soon as it is validated,
	// before OpenPath returns: then OpenPath reports it abandoned.
	if _, err := c.OpenPath(ctx, second); err != nil && !errors.Is(err, quic.ErrPathAbandoned) {
		t.Fatal(err)
	}
	waitPath(t, c, 5*time.Second, "one direct path left", func(ps []quic.PathInfo) bool {
		direct := 0
		for _, p := range ps {
			if usablePath(p) && !p.Addr.IsRelay() {
				direct++
			}
		}
		return direct == 1
	})
	if !isDirect(c.RemoteAddr()) {
		t.Fatalf("data path %v after closing the redundant path", c.RemoteAddr())
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "still direct")
	if got := cli.Metrics().PathsUpgraded.Load(); got != 0 {
		t.Fatalf("paths_upgraded = %d for a connection that started direct", got)
	}
}

// TestMultipathOffKeepsRace: with Options.DisableMultipath nothing is
// negotiated and no path manager runs; the relay connection stays put.
func TestMultipathOffKeepsRace(t *testing.T) {
	r := startRelay(t)
	ctx := testCtx(t, 15*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{})
	cli := bind(t, Options{DisableMultipath: true})
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	if c.Multipath() || cli.PathChanged(c) != nil {
		t.Fatal("multipath negotiated with it off on the client")
	}
	// Data goes both ways, still on the one relay path: without multipath
	// no second path can be opened, so no wait can change this.
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "over the relay only")
	if !c.RemoteAddr().IsRelay() || len(c.Paths()) != 1 {
		t.Fatalf("paths %+v", c.Paths())
	}
}
