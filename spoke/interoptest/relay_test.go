package interoptest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/relay"
	"github.com/alkdev/irohspoke/spoke"
)

// TestGoSpokeIrohHubThroughRelay: the real iroh hub is homed at our relay;
// a Go spoke that knows only the hub's id and the relay gets its echoes
// over the relay path, and fan-out from a real iroh spoke reaches it.
func TestGoSpokeIrohHubThroughRelay(t *testing.T) {
	t.Parallel()
	rs := relay.NewServer(relay.ServerConfig{})
	ts := httptest.NewServer(rs)
	t.Cleanup(func() { rs.Close(); ts.Close() })
	relayURL := ts.URL + "/"
	h := interop.StartHub(t, interop.HubOptions{RelayURL: relayURL})
	if h.RelayURL == "" {
		t.Fatal("hub did not come online at our relay")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Multipath off: the spoke must stay on the relay path under test.
	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", DisableMultipath: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	addr := irohHubAddr(t, h)
	addr.Addrs, addr.Relays = nil, []string{relayURL}
	tg, err := spoke.Dial(ctx, ep, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	if st := tg.Status(); st.Path != spoke.PathRelay {
		t.Fatalf("path %s, want relay", st.Path)
	}
	c := collect(tg)
	dispatchRange(t, tg, "r", 0, 5)
	c.waitFor(t, 10*time.Second, echoKeys("r", 0, 5)...)

	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{ID: h.EndpointID, Addrs: h.Addrs, Count: 3, Name: "node"})
	if err != nil || res.Echoes != 3 {
		t.Fatalf("iroh spoke: %+v, %v", res, err)
	}
	c.waitFanout(t, "node", 3, 10*time.Second)
}
