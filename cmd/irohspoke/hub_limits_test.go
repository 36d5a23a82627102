package main

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// dialHubConn opens a bare QUIC connection to a CLI hub from a fresh
// loopback endpoint, within timeout.
func dialHubConn(t *testing.T, h hubReady, timeout time.Duration) (*quic.Conn, error) {
	t.Helper()
	ep, err := endpoint.Bind(context.Background(), endpoint.Options{BindAddr: "127.0.0.1:0", DisableNetworkMonitor: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	id, err := identity.ParseEndpointID(h.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := netip.ParseAddrPort(h.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return ep.Dial(ctx, identity.EndpointAddr{ID: id, Addrs: []netip.AddrPort{ap}}, hub.ALPN)
}

// TestHubQUICLimits: the hub command's endpoint has the hub's transport
// bounds: no unidirectional stream for a spoke, and --max-spokes 1 leaves
// a second spoke unanswered while the first is connected.
func TestHubQUICLimits(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--max-spokes", "1")
	first, err := dialHubConn(t, h, 5*time.Second)
	if err != nil {
		t.Fatalf("first spoke: %v", err)
	}
	defer first.Close(0, "")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := first.OpenUniStream(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a spoke opened a unidirectional stream (err %v); the hub allows none", err)
	}
	if c, err := dialHubConn(t, h, 1500*time.Millisecond); err == nil {
		c.Close(0, "")
		t.Fatal("a second spoke connected past --max-spokes 1")
	}
}

func TestHubMaxSpokesUsage(t *testing.T) {
	for _, n := range []string{"0", "-3", "many"} {
		args := []string{"hub", "--preset", "minimal", "--listen", "127.0.0.1:0", "--max-spokes", n}
		wantError(t, cli(t, "", args...), exitUsage, "irohspoke: hub: ", "max-spokes", args...)
	}
}
