package endpoint

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// TestRelayOnlyGoToGo: a server online at our relay accepts a connection
// that reaches it only through the relay; a stream echoes.
func TestRelayOnlyGoToGo(t *testing.T) {
	r := startRelay(t)
	// Multipath off on both sides: the connection must stay on the relay
	// for the metrics below (hole punching would move it on loopback).
	ctx := testCtx(t, 15*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{DisableMultipath: true})
	cli := bind(t, Options{DisableMultipath: true}) // no home relay: the dial starts a client
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	if !c.RemoteAddr().IsRelay() || c.RemoteID() != srv.ID() {
		t.Fatalf("path %v, remote %s", c.RemoteAddr(), c.RemoteID().Short())
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "hello through the relay")
	big := make([]byte, 200_000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	echoOnce(t, s, string(big))

	m := cli.Metrics()
	if m.SendRelay.Load() == 0 || m.RecvDataRelay.Load() == 0 || m.SendIPv4.Load() != 0 {
		t.Fatalf("client metrics: relay sent %d recv %d, udp sent %d",
			m.SendRelay.Load(), m.RecvDataRelay.Load(), m.SendIPv4.Load())
	}
	if m.ConnsRelay.Load() != 1 || m.DialsRelayWon.Load() != 1 {
		t.Fatalf("conns_relay %d dials_relay_won %d", m.ConnsRelay.Load(), m.DialsRelayWon.Load())
	}
	if got := srv.Metrics().ConnsRelay.Load(); got != 1 {
		t.Fatalf("server conns_relay %d", got)
	}
	if v := cli.Expvar().Get("conns_opened"); v == nil || v.String() != "1" {
		t.Fatalf("expvar conns_opened = %v", v)
	}
}

// TestDialRace: with a working direct address and a relay the direct path
// wins on loopback; with a closed port as the direct address the relay
// path wins.
func TestDialRace(t *testing.T) {
	r := startRelay(t)
	ctx := testCtx(t, 15*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{})
	cli := bind(t, Options{RelayURL: r.URL})

	c, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Addrs: srv.Addrs(), Relays: []string{r.URL}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr().IsRelay() || c.RemoteAddr().UDP != srv.LocalAddr() {
		t.Fatalf("direct dial ended on %v", c.RemoteAddr())
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "direct")

	dead := closedUDPPort(t)
	start := time.Now()
	c, err = cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Addrs: []netip.AddrPort{dead}, Relays: []string{r.URL}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	if !c.RemoteAddr().IsRelay() {
		t.Fatalf("dial via a dead address ended on %v", c.RemoteAddr())
	}
	if el := time.Since(start); el < DefaultRelayHeadStart {
		t.Fatalf("relay won after %v, before its head start", el)
	}
	s, err = c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "relayed")
	m := cli.Metrics()
	if m.DialsDirectWon.Load() != 1 || m.DialsRelayWon.Load() != 1 {
		t.Fatalf("direct won %d, relay won %d", m.DialsDirectWon.Load(), m.DialsRelayWon.Load())
	}
}

// TestDialBothFail: an error names both paths' reasons.
func TestDialBothFail(t *testing.T) {
	r := startRelay(t)
	cli := bind(t, Options{QUIC: &quic.Config{HandshakeTimeout: 300 * time.Millisecond}})
	nobody, _ := identity.GenerateSecretKey(nil)
	ctx := testCtx(t, 10*time.Second)
	_, err := cli.Dial(ctx, identity.EndpointAddr{ID: nobody.Public(), Addrs: []netip.AddrPort{closedUDPPort(t)}, Relays: []string{r.URL}}, testALPN)
	var de *DialError
	if !errors.As(err, &de) || de.Direct == nil || de.Relay == nil {
		t.Fatalf("err = %v, want a DialError with both reasons", err)
	}
	if !errors.Is(err, quic.ErrHandshakeTimeout) {
		t.Fatalf("err = %v does not unwrap to the handshake timeout", err)
	}
	if cli.Metrics().DialsFailed.Load() != 1 {
		t.Fatal("dials_failed not counted")
	}

	if _, err := cli.Dial(ctx, identity.EndpointAddr{ID: nobody.Public()}, testALPN); !errors.Is(err, ErrNoPath) {
		t.Fatalf("no path: %v", err)
	}
	if _, err := cli.Dial(ctx, identity.EndpointAddr{ID: nobody.Public(), Relays: []string{"ftp://x"}}, testALPN); err == nil {
		t.Fatal("bad relay URL accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cli.Dial(cctx, identity.EndpointAddr{ID: nobody.Public(), Relays: []string{r.URL}}, testALPN); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled dial: %v", err)
	}
}

// TestRelayRestart: the relay goes away for 5 s and comes back on the
// same port; both relay clients reconnect on their own and the relayed
// connection carries on.
func TestRelayRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("takes over 5 s")
	}
	r := startRelay(t)
	ctx := testCtx(t, 30*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{DisableMultipath: true})
	states := make(chan relay.State, 64)
	cli := bind(t, Options{RelayURL: r.URL, DisableMultipath: true, OnRelayStatus: func(_ string, st relay.Status) {
		select {
		case states <- st.State:
		default:
		}
	}})
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "before")

	r.stop()
	waitState(t, states, relay.StateReconnecting)
	if st := cli.RelayStatus(); st.State == relay.StateConnected {
		t.Fatalf("relay status %v while the relay is down", st.State)
	}
	time.Sleep(5 * time.Second) // the outage itself (not a wait): clients back off meanwhile
	r.start()
	waitState(t, states, relay.StateConnected)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "after the relay came back")
	if c.Err() != nil || !c.RemoteAddr().IsRelay() {
		t.Fatalf("connection: err %v path %v", c.Err(), c.RemoteAddr())
	}
}

func waitState(t *testing.T, ch <-chan relay.State, want relay.State) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case st := <-ch:
			if st == want {
				return
			}
		case <-timeout:
			t.Fatalf("relay never reached %v", want)
		}
	}
}

// TestCloseLeavesNothing: after Close every goroutine (socket, relay
// clients and pumps, QUIC) is gone and calls fail cleanly.
func TestCloseLeavesNothing(t *testing.T) {
	r := startRelay(t)
	base := runtime.NumGoroutine()
	srv, err := Bind(context.Background(), Options{BindAddr: "127.0.0.1:0", RelayURL: r.URL, ALPNs: []string{testALPN}, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Bind(context.Background(), Options{BindAddr: "127.0.0.1:0", Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 10*time.Second)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	serveEcho(srv)
	c, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Addrs: srv.Addrs(), Relays: []string{r.URL}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.OpenStream(ctx)
	echoOnce(t, s, "x")
	cli.Close()
	srv.Close()
	if err := srv.Close(); err != nil && !isClosedErr(err) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := srv.Accept(ctx); err == nil {
		t.Fatal("accept after close")
	}
	if _, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: []string{r.URL}}, testALPN); err == nil {
		t.Fatal("dial after close")
	}
	waitGoroutines(t, base)
}

func TestBindAndTicket(t *testing.T) {
	if _, err := Bind(context.Background(), Options{BindAddr: "nonsense"}); !errors.Is(err, ErrBadBindAddr) {
		t.Fatalf("bad bind: %v", err)
	}
	if _, err := Bind(context.Background(), Options{BindAddr: "127.0.0.1:0", RelayURL: "gopher://x"}); err == nil {
		t.Fatal("bad relay URL accepted")
	}
	e := bind(t, Options{RelayURL: "http://127.0.0.1:1"})
	tk := e.Addr()
	if tk.ID != e.ID() || len(tk.Relays) != 1 || tk.Relays[0] != "http://127.0.0.1:1/" || e.HomeRelay() != tk.Relays[0] {
		t.Fatalf("ticket %+v", tk)
	}
	if len(tk.Addrs) != 1 || tk.Addrs[0] != e.LocalAddr() {
		t.Fatalf("ticket addrs %v, local %v", tk.Addrs, e.LocalAddr())
	}
	back, err := identity.ParseTicket(tk.String())
	if err != nil || back.ID != e.ID() || back.RelayURL() != tk.Relays[0] {
		t.Fatalf("ticket round trip: %v %+v", err, back)
	}
	if st := e.RelayStatus(); st.State == relay.StateConnected {
		t.Fatal("connected to a closed port")
	}
	noRelay := bind(t, Options{})
	if err := noRelay.WaitRelay(context.Background()); !errors.Is(err, ErrNoHomeRelay) {
		t.Fatalf("WaitRelay without relay: %v", err)
	}
	if st := noRelay.RelayStatus(); !errors.Is(st.Err, ErrNoHomeRelay) {
		t.Fatalf("RelayStatus without relay: %+v", st)
	}
	any := bind(t, Options{BindAddr: "0.0.0.0:0"})
	for _, a := range any.Addrs() {
		if !a.Addr().Is4() || a.Port() != any.LocalAddr().Port() {
			t.Fatalf("unspecified bind lists %v", a)
		}
	}
}

// closedUDPPort returns a loopback UDP address nobody listens on.
func closedUDPPort(t testing.TB) netip.AddrPort {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	return ap
}
