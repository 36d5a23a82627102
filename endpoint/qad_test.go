package endpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/quic/qadtest"
)

func TestDiffAddrs(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.2:1000")
	b := netip.MustParseAddrPort("198.51.100.7:1000")
	c := netip.MustParseAddrPort("198.51.100.7:2000")
	added, removed := diffAddrs([]netip.AddrPort{a, b}, []netip.AddrPort{a, c})
	if !slices.Equal(added, []netip.AddrPort{c}) || !slices.Equal(removed, []netip.AddrPort{b}) {
		t.Fatalf("added %v removed %v", added, removed)
	}
	if added, removed := diffAddrs(nil, []netip.AddrPort{a}); len(added) != 1 || len(removed) != 0 {
		t.Fatalf("from nothing: added %v removed %v", added, removed)
	}
	if added, removed := diffAddrs([]netip.AddrPort{a}, []netip.AddrPort{a}); added != nil || removed != nil {
		t.Fatalf("unchanged: added %v removed %v", added, removed)
	}
}

func TestWithObserved(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.2:1000")
	pub := netip.MustParseAddrPort("198.51.100.7:1000")
	base := make([]netip.AddrPort, 1, 4)
	base[0] = a
	if got := withObserved(base, netip.AddrPort{}); !slices.Equal(got, base) {
		t.Fatalf("zero observed: %v", got)
	}
	if got := withObserved(base, a); len(got) != 1 {
		t.Fatalf("duplicate added: %v", got)
	}
	got := withObserved(base, pub)
	if !slices.Equal(got, []netip.AddrPort{a, pub}) {
		t.Fatalf("got %v", got)
	}
	// base's spare capacity must not be written through.
	if base[:2][1].IsValid() {
		t.Fatal("withObserved wrote into the caller's array")
	}
}

func TestRelayQADNeedsRelay(t *testing.T) {
	_, err := Bind(context.Background(), Options{BindAddr: "127.0.0.1:0", RelayQAD: true})
	if !errors.Is(err, ErrQADNoRelay) {
		t.Fatalf("err %v, want ErrQADNoRelay", err)
	}
}

// qadServer is a QAD endpoint on loopback with a test-CA certificate for
// 127.0.0.1, standing in for a relay's.
func qadServer(t *testing.T) (*qadtest.CA, uint16) {
	t.Helper()
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca, qadServerOf(t, ca)
}

// qadServerOf is a QAD endpoint with a certificate for 127.0.0.1 from ca.
func qadServerOf(t *testing.T, ca *qadtest.CA) uint16 {
	t.Helper()
	chain, key, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := quic.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := quic.ListenAddressDiscovery(tr, quic.AddressDiscoveryServer{Certificate: chain, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return netip.MustParseAddrPort(srv.LocalAddr().String()).Port()
}

// TestRelayQADLearnsAddress: the endpoint asks the home relay's QAD
// endpoint (relay host, RelayQADPort, RelayTLS roots) for its address
// from its own socket; on loopback that is the socket's address.
func TestRelayQADLearnsAddress(t *testing.T) {
	r := startRelay(t)
	ca, port := qadServer(t)
	e := bind(t, Options{RelayURL: r.URL, RelayQAD: true, RelayQADPort: port, RelayTLS: &tls.Config{RootCAs: ca.Roots}})
	ctx := testCtx(t, 10*time.Second)
	for {
		if pub, ok := e.PublicAddr(); ok {
			if pub != e.LocalAddr() {
				t.Fatalf("public %v, want our socket %v", pub, e.LocalAddr())
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no public address: %+v", e.QADStatus())
		case <-time.After(10 * time.Millisecond):
		}
	}
	st := e.QADStatus()
	if !st.Enabled || st.ServerName != "127.0.0.1" || !strings.HasSuffix(st.Server, ":"+strconv.Itoa(int(port))) || st.Err != nil {
		t.Fatalf("status %+v", st)
	}
	if p, n := e.Metrics().QADProbes.Load(), e.Metrics().QADErrors.Load(); p != 1 || n != 0 {
		t.Fatalf("qad_probes %d, qad_errors %d", p, n)
	}
	// The address is on our own socket, so it is already a candidate.
	if got := e.Candidates(); !slices.Equal(got, e.Addrs()) {
		t.Fatalf("candidates %v, addrs %v", got, e.Addrs())
	}
}

// TestRelayQADUntrusted: a QAD server whose certificate does not chain to
// RelayTLS's roots is not believed.
func TestRelayQADUntrusted(t *testing.T) {
	r := startRelay(t)
	_, port := qadServer(t)
	other, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	e := bind(t, Options{RelayURL: r.URL, RelayQAD: true, RelayQADPort: port, RelayTLS: &tls.Config{RootCAs: other.Roots}})
	ctx := testCtx(t, 10*time.Second)
	for e.Metrics().QADErrors.Load() == 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("no QAD error: %+v", e.QADStatus())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, ok := e.PublicAddr(); ok {
		t.Fatal("learned an address from an untrusted server")
	}
	if e.QADStatus().Err == nil {
		t.Fatal("status has no error")
	}
}

// noQAD returns a QAD port on loopback where nothing answers, so that an
// endpoint's own probes fail and tests set its public address by hand.
func noQAD(t *testing.T) uint16 { return closedUDPPort(t).Port() }

// settlePass waits until c's path manager has run a whole pass begun
// after this call: whatever the candidates seen now call for (a round or
// none) has been done.
func settlePass(t *testing.T, e *Endpoint, c *quic.Conn) {
	t.Helper()
	m := e.conns.get(c)
	if m == nil {
		t.Fatal("no path manager for the connection")
	}
	n := m.passes.Load()
	m.wake()
	waitCount(t, "a path manager pass", &m.passes, n+1)
	m.wake() // the pass above may have begun before the first wake
	waitCount(t, "a path manager pass begun after the wake", &m.passes, n+2)
}

// waitFor polls cond until it holds, failing after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerAnnouncesPublicAddr: a server's public address joins its
// announced candidates when QAD learns it, and a new one replaces it.
func TestServerAnnouncesPublicAddr(t *testing.T) {
	r := startRelay(t)
	ctx := testCtx(t, 20*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{RelayQAD: true, RelayQADPort: noQAD(t)})
	cli := bind(t, Options{})
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	has := func(ap netip.AddrPort) bool { return slices.Contains(c.NatRemoteAddresses(), ap) }
	waitPathEvent(t, c, 5*time.Second, "the server's interface candidate", func() bool { return has(srv.LocalAddr()) })
	// Let the round for it go first.
	settlePass(t, cli, c)
	rounds := cli.Metrics().HolepunchRounds.Load()

	pub1 := netip.MustParseAddrPort("203.0.113.7:4000")
	srv.setObserved(pub1)
	waitPathEvent(t, c, 5*time.Second, "the public address announced", func() bool { return has(pub1) })
	pub2 := netip.MustParseAddrPort("203.0.113.7:4001")
	srv.setObserved(pub2)
	waitPathEvent(t, c, 5*time.Second, "the new public address replacing the old", func() bool { return has(pub2) && !has(pub1) })
	if !has(srv.LocalAddr()) {
		t.Fatalf("interface candidate withdrawn: %v", c.NatRemoteAddresses())
	}
	// The change of the server's candidates makes the client punch again
	// (changes within roundMinGapNew of a round share the next one).
	waitFor(t, 5*time.Second, "a client round for the new candidates", func() bool {
		return cli.Metrics().HolepunchRounds.Load() >= rounds+1
	})
	if !slices.Contains(srv.Addr().Addrs, pub2) {
		t.Fatalf("ticket lacks the public address: %v", srv.Addr().Addrs)
	}
}

// TestClientPunchesOnPublicAddrChange: a client whose public address
// changes starts a new round with it among its candidates.
func TestClientPunchesOnPublicAddrChange(t *testing.T) {
	r := startRelay(t)
	ctx := testCtx(t, 20*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{})
	cli := bind(t, Options{RelayURL: r.URL, RelayQAD: true, RelayQADPort: noQAD(t)})
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	waitFor(t, 5*time.Second, "the first round", func() bool { return cli.Metrics().HolepunchRounds.Load() > 0 })
	// Let the rounds for the server's announcements go first.
	settlePass(t, cli, c)
	before := cli.Metrics().HolepunchRounds.Load()
	pub := netip.MustParseAddrPort("203.0.113.9:5000")
	cli.setObserved(pub)
	waitFor(t, 2*time.Second, "a round for the new public address", func() bool {
		return cli.Metrics().HolepunchRounds.Load() > before
	})
	if !slices.Contains(cli.Candidates(), pub) {
		t.Fatalf("candidates %v lack %v", cli.Candidates(), pub)
	}
	// Unchanged, it starts no further round (the next is 60 s away).
	after := cli.Metrics().HolepunchRounds.Load()
	cli.setObserved(pub)
	settlePass(t, cli, c)
	if got := cli.Metrics().HolepunchRounds.Load(); got != after {
		t.Fatalf("rounds %d → %d without a change", after, got)
	}
}

// TestQADWithPreset: with a preset's relays (each with a QAD endpoint) the
// report measures them by QAD, QAD runs against whichever relay is home
// and follows it when the home relay fails over; no RelayURL needed.
func TestQADWithPreset(t *testing.T) {
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := startRelay(t), startRelay(t)
	ports := map[string]uint16{r1.URL + "/": qadServerOf(t, ca), r2.URL + "/": qadServerOf(t, ca)}
	preset := Preset{Name: "qad", QAD: true, Relays: []RelayNode{{r1.URL, ports[r1.URL+"/"]}, {r2.URL, ports[r2.URL+"/"]}}}
	e := bind(t, Options{Preset: preset, RelayTLS: &tls.Config{RootCAs: ca.Roots}})
	ctx := testCtx(t, 15*time.Second)
	if err := e.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	nr := e.NetReport()
	for _, rl := range nr.Relays {
		if rl.Probe != "qad" || rl.Latency <= 0 {
			t.Fatalf("relay %s measured %v by %q, want QAD", rl.URL, rl.Latency, rl.Probe)
		}
	}
	home := e.HomeRelay()
	wantServer := func(url string) {
		t.Helper()
		want := "127.0.0.1:" + strconv.Itoa(int(ports[url]))
		waitFor(t, 5*time.Second, "QAD against "+url, func() bool {
			st := e.QADStatus()
			return st.Enabled && st.Server == want && st.Err == nil
		})
	}
	wantServer(home)
	if pub, ok := e.PublicAddr(); !ok || pub != e.LocalAddr() {
		t.Fatalf("public address %v %v, want our socket %v", pub, ok, e.LocalAddr())
	}
	other := r1
	if home == r1.URL+"/" {
		other = r2
	}
	if home == other.URL+"/" {
		t.Fatal("bad test setup")
	}
	// Kill the home relay: home moves, and QAD with it.
	for _, r := range []*testRelay{r1, r2} {
		if r.URL+"/" == home {
			r.stop()
		}
	}
	waitFor(t, 10*time.Second, "failover", func() bool { return e.HomeRelay() == other.URL+"/" })
	wantServer(other.URL + "/")
}
