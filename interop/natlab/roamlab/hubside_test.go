//go:build linux

package roamlab_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/natlab/roamlab"
)

// TestPortMapHubSide: our hub ("irohspoke hub", N0 preset: port mapping
// on) behind a masquerade NAT whose router runs miniupnpd; the spokes
// behind a masquerade NAT that does not map. The hub announces its
// mapped address (ADD_ADDRESS); the spoke's hole-punching probes reach
// the hub through the forward. Our spoke and a real iroh spoke both end
// on a direct path to the mapped address; without the mapping neither
// side has a reachable candidate.
func TestPortMapHubSide(t *testing.T) {
	lab := roamlab.New(t)
	relayURL, _ := lab.Public(t, "relay").StartRelay(t)
	hr := lab.Router(t, "h", roamlab.RouterSpec{Kind: natlab.EndpointIndependent, UPnP: true})
	hubHost := lab.Host(t, "hub")
	if err := lab.Attach(t, hubHost, hr).Up(); err != nil {
		t.Fatal(err)
	}
	h := startGoHub(t, hubHost, relayURL)
	spoke := lab.Host(t, "spoke")
	if err := lab.Attach(t, spoke, lab.Router(t, "s", roamlab.RouterSpec{Kind: natlab.EndpointIndependent})).Up(); err != nil {
		t.Fatal(err)
	}

	t.Run("irohspoke-dial", func(t *testing.T) {
		s := dial(t, spoke, "hubmapped", "relay", "--hub", h.id, "--relay", relayURL)
		connected := time.Now()
		s.start()
		direct := s.waitStatus("path_changed", "direct")
		time.Sleep(300 * time.Millisecond)
		s.finish()
		t.Logf("direct %v after connecting on the relay", direct.Sub(connected).Round(time.Millisecond))
	})
	t.Run("iroh-spoke", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
			Netns: spoke.Netns, ID: h.id, RelayURL: relayURL,
			Count: 3, Size: 100, Bind: "0.0.0.0:0", Linger: 2 * time.Second,
		})
		if err != nil || res.Echoes != 3 {
			t.Fatalf("iroh spoke: %d echoes, %v\n%s", res.Echoes, err, res.Stderr)
		}
		for _, p := range res.Paths {
			if ap, err := netip.ParseAddrPort(p.RemoteAddr); err == nil && p.IsSelected && !p.IsRelay && ap.Addr() == hr.Addr() {
				t.Logf("iroh selected the hub's mapped address %v", ap)
				return
			}
		}
		t.Fatalf("iroh's selected path is not to the hub's mapped address on %v: %+v", hr.Addr(), res.Paths)
	})
	leases, err := hr.Leases()
	if err != nil || len(leases) != 1 {
		t.Fatalf("hub router leases %q, %v", leases, err)
	}
}
