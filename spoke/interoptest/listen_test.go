package interoptest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
)

// TestListenOnlySpoke: a Go spoke that never dispatches receives the
// fan-out of an iroh spoke's events, from the real iroh hub (its acceptBi
// surfaces the stream from our empty STREAM frame) and from ours.
func TestListenOnlySpoke(t *testing.T) {
	t.Parallel()
	hubs := map[string]func(testing.TB) identity.EndpointAddr{
		"iroh": func(t testing.TB) identity.EndpointAddr {
			return irohHubAddr(t, interop.StartHub(t, interop.HubOptions{}))
		},
		"go": startGoHub,
	}
	for name, start := range hubs {
		t.Run(name, func(t *testing.T) {
			hub := start(t)
			listener := dial(t, newEndpoint(t, quic.Config{}), hub)
			c := collect(listener)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// The hub may accept our stream a moment after the handshake:
			// run iroh spokes until one event is fanned out to the
			// listener (each run takes long enough for the previous fan-out
			// to land). Without the announcement none ever is.
			for i := 0; c.fanout("node") == 0; i++ {
				if ctx.Err() != nil {
					t.Fatalf("no fan-out reached the listen-only spoke after %d iroh spokes", i)
				}
				res, err := interop.RunSpoke(ctx, interop.SpokeOptions{ID: hub.ID.String(), Addrs: hub.Addrs, Count: 1, Name: fmt.Sprintf("node%d-", i)})
				if ctx.Err() != nil {
					continue // reported above
				}
				if err != nil || res.Echoes != 1 {
					t.Fatalf("iroh spoke: %+v, %v", res, err)
				}
			}
			if st := listener.Status(); st.Stats.Dispatched != 0 || st.State != spoke.StateConnected || st.Reconnects != 0 {
				t.Fatalf("listener status %+v", st)
			}
		})
	}
}
