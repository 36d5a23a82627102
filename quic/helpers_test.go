package quic

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

const testALPN = "irohspoke/test"

func testKey(t testing.TB, seed byte) identity.SecretKey {
	t.Helper()
	s := make([]byte, 32)
	for i := range s {
		s[i] = seed
	}
	k, err := identity.SecretKeyFromBytes(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestEndpoint(t testing.TB, cfg *Config) *Endpoint {
	t.Helper()
	return newTestEndpointMode(t, cfg, handshake.ModeRawPublicKey)
}

// newTestEndpointMode is newTestEndpoint presenting our identity in mode:
// the quic-go oracle tests need X.509 certificates.
func newTestEndpointMode(t testing.TB, cfg *Config, mode handshake.Mode) *Endpoint {
	t.Helper()
	tr, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEndpoint(tr, cfg, mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func addrOf(t testing.TB, a net.Addr) Addr {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return UDPAddr(ap)
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pair dials a server endpoint from a client endpoint and returns both
// ends of the connection.
func pair(t testing.TB, ccfg, scfg *Config) (client, server *Conn, cep, sep *Endpoint) {
	t.Helper()
	if scfg == nil {
		scfg = &Config{}
	}
	if len(scfg.ALPNs) == 0 {
		scfg.ALPNs = []string{testALPN}
	}
	sep = newTestEndpoint(t, scfg)
	cep = newTestEndpoint(t, ccfg)
	client, server = dialAccept(t, cep, sep, addrOf(t, sep.LocalAddr()))
	return client, server, cep, sep
}

// dialAccept dials sep at to from cep and returns both ends.
func dialAccept(t testing.TB, cep, sep *Endpoint, to Addr) (client, server *Conn) {
	t.Helper()
	ctx := testCtx(t)
	client, err := cep.Dial(ctx, to, sep.ID(), testALPN)
	if err != nil {
		t.Fatal(err)
	}
	server, err = sep.Accept(ctx) // queued when the handshake completed
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

// checkGoroutines fails if goroutines started after base linger.
func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want ≤ %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
