package interop_test

// Our QUIC stack (the public quic API) against real iroh 1.0: the hub and a
// spoke from @number0/iroh, on direct UDP inside the loopback-only netns.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/wire"
)

func newQUICEndpoint(t testing.TB, cfg *quic.Config) *quic.Endpoint {
	t.Helper()
	tr, err := quic.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg == nil {
		cfg = &quic.Config{}
	}
	ep, err := quic.NewEndpoint(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

func hubTarget(t testing.TB, hub *interop.Hub) (quic.Addr, identity.EndpointID) {
	t.Helper()
	v4, ok := hub.AddrV4()
	if !ok {
		t.Fatalf("hub has no IPv4 address: %v", hub.Addrs)
	}
	id, err := identity.ParseEndpointID(hub.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	return quic.UDPAddr(v4), id
}

// echoCheck sends envs over s and checks each echo in order.
func echoCheck(t *testing.T, s *quic.Stream, envs []wire.Envelope) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		w := wire.NewWriter(s, 0)
		for _, e := range envs {
			if err := w.WriteEnvelope(e); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	r := wire.NewReader(bufio.NewReaderSize(s, 64<<10), 0)
	for i, want := range envs {
		got, _, err := r.ReadEnvelope()
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if got.Type != want.Type+".echo" || got.ID != want.ID || string(got.Payload) != string(want.Payload) {
			t.Fatalf("echo %d: type %q id %q payload %d bytes, want %q %q %d bytes",
				i, got.Type, got.ID, len(got.Payload), want.Type+".echo", want.ID, len(want.Payload))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// mixedEnvelopes returns n envelopes whose payloads range from tiny to 1 MiB.
func mixedEnvelopes(n int) []wire.Envelope {
	envs := make([]wire.Envelope, n)
	for i := range envs {
		size := (i * 7919) % 2048
		switch {
		case i%250 == 0:
			size = 1 << 20
		case i%50 == 0:
			size = 64 << 10
		}
		p := make([]byte, 0, size+2)
		p = append(p, '"')
		for j := 0; j < size; j++ {
			p = append(p, 'a'+byte((i+j)%26))
		}
		p = append(p, '"')
		envs[i] = wire.Envelope{Type: fmt.Sprintf("t%d", i%7), ID: fmt.Sprint(i), Payload: p}
	}
	return envs
}

func TestQUICEchoThousandEnvelopesAgainstIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	to, id := hubTarget(t, hub)
	ep := newQUICEndpoint(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := ep.Dial(ctx, to, id, "alkpubsub/1")
	if err != nil {
		t.Fatal(err)
	}
	if conn.RemoteID() != id || conn.ALPN() != "alkpubsub/1" {
		t.Fatalf("remote %s alpn %q", conn.RemoteID(), conn.ALPN())
	}
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoCheck(t, s, mixedEnvelopes(1000))
	st := conn.Stats()
	t.Logf("1000 envelopes echoed: sent %d B in %d packets, lost %d, key updates %d, RTT %v",
		st.BytesSent, st.PacketsSent, st.PacketsLost, st.KeyUpdates, st.RTT)
	// A clean close: iroh sees our code and reason.
	if err := conn.Close(7, "spoke done"); err != nil {
		t.Fatal(err)
	}
	waitLog(t, hub, "spoke done")
}

// waitLog waits until the hub's log mentions s.
func waitLog(t *testing.T, hub *interop.Hub, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(hub.Stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("hub log never mentioned %q:\n%s", s, hub.Stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestQUICLongLivedAgainstIroh keeps a connection for more than 60 s,
// including a silent stretch longer than the 30 s idle timeout that only
// keep-alives bridge, with key updates from both sides.
func TestQUICLongLivedAgainstIroh(t *testing.T) {
	interop.RequireNetns(t)
	if testing.Short() {
		t.Skip("runs for 65 s")
	}
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	to, id := hubTarget(t, hub)
	ep := newQUICEndpoint(t, &quic.Config{KeyUpdateInterval: 8})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := ep.Dial(ctx, to, id, "alkpubsub/1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	echoCheck(t, s, mixedEnvelopes(20))
	time.Sleep(40 * time.Second) // silence: > idle timeout, < keep-alive interval × n
	echoCheck(t, s, mixedEnvelopes(20))
	for time.Since(start) < 62*time.Second {
		time.Sleep(time.Second)
	}
	echoCheck(t, s, mixedEnvelopes(5))
	st := conn.Stats()
	t.Logf("after %v: packets sent %d received %d, key updates %d", time.Since(start).Round(time.Second), st.PacketsSent, st.PacketsReceived, st.KeyUpdates)
	if st.KeyUpdates < 2 {
		t.Fatalf("only %d key updates", st.KeyUpdates)
	}
	// 40 s of silence at a 5 s keep-alive is at least 7 PINGs each way.
	if st.PacketsReceived < 7 {
		t.Fatalf("too few packets received (%d) for keep-alives to have run", st.PacketsReceived)
	}
	if err := conn.Close(0, "done"); err != nil {
		t.Fatal(err)
	}
}

func TestQUICWrongIDAndALPNAgainstIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	to, id := hubTarget(t, hub)
	ep := newQUICEndpoint(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	other, _ := identity.GenerateSecretKey(nil)
	conn, err := ep.Dial(ctx, to, other.Public(), "alkpubsub/1")
	if err == nil || conn != nil {
		t.Fatalf("dial with a wrong EndpointId succeeded")
	}
	var te *quic.TransportError
	if !errors.As(err, &te) || te.Code != 0x100+48 {
		t.Fatalf("wrong id: %v (want a TLS unknown_ca error)", err)
	}
	t.Logf("wrong id: %v", err)

	conn, err = ep.Dial(ctx, to, id, "nope/1")
	if err == nil || conn != nil {
		t.Fatalf("dial with a wrong ALPN succeeded")
	}
	if !errors.As(err, &te) || te.Code != 0x178 || !te.Remote {
		t.Fatalf("wrong ALPN: %v (want the hub's no_application_protocol)", err)
	}
	t.Logf("wrong ALPN: %v", err)
}

// TestIrohSpokeAgainstOurServer: the real iroh spoke dials a Go endpoint,
// which echoes like the hub.
func TestIrohSpokeAgainstOurServer(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	ep := newQUICEndpoint(t, &quic.Config{ALPNs: []string{"alkpubsub/1"}})
	go serveEcho(ep)
	ap, err := netip.ParseAddrPort(ep.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: ep.ID().String(), Addrs: []netip.AddrPort{ap}, Count: 50, Size: 10000,
	})
	if err != nil || !res.OK || res.Echoes != 50 {
		t.Fatalf("iroh spoke: %v %+v\n%s", err, res, res.Stderr)
	}
	if res.RemoteID != ep.ID().String() {
		t.Fatalf("iroh saw remote %s", res.RemoteID)
	}
	t.Logf("iroh spoke: connect %.2f ms", *res.ConnectMs)
}

// serveEcho is a minimal alkpubsub echo server on the quic API.
func serveEcho(ep *quic.Endpoint) {
	for {
		conn, err := ep.Accept(context.Background())
		if err != nil {
			return
		}
		go func() {
			s, err := conn.AcceptStream(context.Background())
			if err != nil {
				return
			}
			r := wire.NewReader(s, 0)
			w := wire.NewWriter(s, 0)
			for {
				env, _, err := r.ReadEnvelope()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						conn.Close(1, err.Error())
					}
					return
				}
				if err := w.WriteEnvelope(env.Echo()); err != nil {
					return
				}
			}
		}()
	}
}

// TestQUICOverIPv6AgainstIroh dials the hub's IPv6 socket.
func TestQUICOverIPv6AgainstIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	v6, ok := hub.AddrV6()
	if !ok {
		t.Fatalf("hub has no IPv6 address: %v", hub.Addrs)
	}
	_, id := hubTarget(t, hub)
	tr, err := quic.ListenUDP("[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := quic.NewEndpoint(tr, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := ep.Dial(ctx, quic.UDPAddr(v6), id, "alkpubsub/1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoCheck(t, s, mixedEnvelopes(10)[1:])
	conn.Close(0, "")
}
