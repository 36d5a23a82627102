package endpoint

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// TestDialErrorsSayWhy: each way a dial fails gives an error that names
// the cause, and fails as soon as the cause is known.
func TestDialErrorsSayWhy(t *testing.T) {
	srv := bind(t, Options{ALPNs: []string{testALPN}})
	serveEcho(srv)
	cli := bind(t, Options{QUIC: &quic.Config{HandshakeTimeout: 500 * time.Millisecond}})
	ctx := testCtx(t, 20*time.Second)
	other, _ := identity.GenerateSecretKey(nil)

	t.Run("wrong key", func(t *testing.T) {
		_, err := cli.Dial(ctx, identity.EndpointAddr{ID: other.Public(), Addrs: srv.Addrs()}, testALPN)
		var te *quic.TransportError
		if !errors.Is(err, ErrWrongPeerKey) || !errors.As(err, &te) {
			t.Fatalf("err %v, want ErrWrongPeerKey wrapping the TLS error", err)
		}
		t.Log(err)
	})
	t.Run("relay refuses", func(t *testing.T) {
		dead := "http://" + closedTCPPort(t)
		start := time.Now()
		_, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: []string{dead}}, testALPN)
		if !errors.Is(err, ErrRelayUnreachable) || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("err %v, want ErrRelayUnreachable saying the connection was refused", err)
		}
		t.Log(err)
		if el := time.Since(start); el > time.Second {
			t.Fatalf("took %v; the relay's refusal should end the dial at once", el)
		}
	})
	t.Run("relay TLS", func(t *testing.T) {
		rs := relay.NewServer(relay.ServerConfig{Logger: testLogger()})
		ts := httptest.NewUnstartedServer(rs)
		ts.Config.ErrorLog = log.New(io.Discard, "", 0)
		ts.StartTLS() // a certificate nobody trusts
		t.Cleanup(ts.Close)
		// The default handshake timeout: the relay's TLS failure, not the
		// clock, must end this dial, also on a slow (race) run.
		patient := bind(t, Options{})
		_, err := patient.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: []string{ts.URL}}, testALPN)
		if !errors.Is(err, ErrRelayUnreachable) || !strings.Contains(err.Error(), "TLS") {
			t.Fatalf("err %v, want ErrRelayUnreachable naming TLS", err)
		}
		t.Log(err)
	})
	t.Run("relay silent", func(t *testing.T) {
		// TCP connects (the kernel's backlog) but nothing ever answers.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		_, err = cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: []string{"http://" + l.Addr().String()}}, testALPN)
		if !errors.Is(err, ErrRelayUnreachable) || !strings.Contains(err.Error(), "still connecting") {
			t.Fatalf("err %v, want ErrRelayUnreachable saying the relay never answered", err)
		}
		t.Log(err)
	})
	t.Run("peer not at relay", func(t *testing.T) {
		r := startRelay(t)
		// Homed there, so the relay is up before the short timeout runs.
		homed := bind(t, Options{RelayURL: r.URL, QUIC: &quic.Config{HandshakeTimeout: 500 * time.Millisecond}})
		if err := homed.WaitRelay(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := homed.Dial(ctx, identity.EndpointAddr{ID: other.Public(), Relays: []string{r.URL}}, testALPN)
		if !errors.Is(err, quic.ErrHandshakeTimeout) || !strings.Contains(err.Error(), "connected to the relay") {
			t.Fatalf("err %v, want a timeout that says the relay is fine", err)
		}
		t.Log(err)
	})
	t.Run("lookup", func(t *testing.T) {
		if _, err := cli.Dial(ctx, identity.EndpointAddr{ID: other.Public()}, testALPN); !errors.Is(err, ErrNoPath) ||
			!strings.Contains(err.Error(), "lookup is off") {
			t.Fatalf("no lookup: %v", err)
		}
		ls := startLookupServer(t)
		// One DNS attempt, not iroh's seven staggered over 3 s.
		dns := &lookup.DNSResolver{Server: netip.MustParseAddrPort(ls.DNS), Origin: ls.Origin, Staggering: []time.Duration{0}}
		withLookup := bind(t, Options{Lookup: dns})
		_, err := withLookup.Dial(ctx, identity.EndpointAddr{ID: other.Public()}, testALPN)
		if !errors.Is(err, lookup.ErrNotFound) || !strings.Contains(err.Error(), "lookup") ||
			!strings.Contains(err.Error(), other.Public().ZBase32()) {
			t.Fatalf("unknown endpoint: %v", err)
		}
		t.Log(err)
	})
}

// closedTCPPort returns a loopback TCP address nobody listens on.
func closedTCPPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
