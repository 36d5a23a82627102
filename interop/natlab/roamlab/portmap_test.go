//go:build linux

package roamlab_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/natlab/roamlab"
)

// TestPortMapGoesDirect: a hub behind a masquerade NAT whose router does
// not map (it knows only its private address: no candidate of its is
// reachable), our spoke ("irohspoke dial", N0 preset: port mapping on)
// behind a NAT whose router runs miniupnpd. The spoke maps its port and
// offers the mapped address in its hole-punching round; the hub's probes
// reach it through the router's forward, the spoke's answer carries a
// challenge back through the hub's NAT, and the connection moves from
// the relay to a direct path. Without the mapping it stays on the relay
// (interop/natlab TestQADGoSpokeToIrohHubBothBehindNATs and
// TestNoUpgradeBothBehindNATs). Behind the random-port NAT, where QAD
// cannot help at all, the mapping is what makes the direct path. The
// spoke deletes its mapping when it closes.
func TestPortMapGoesDirect(t *testing.T) {
	for _, hk := range hubKinds {
		t.Run(hk.name, func(t *testing.T) {
			lab := roamlab.New(t)
			relayURL, _ := lab.Public(t, "relay").StartRelay(t)
			hubHost := lab.Host(t, "hub")
			if err := lab.Attach(t, hubHost, lab.Router(t, "h", roamlab.RouterSpec{Kind: natlab.EndpointIndependent})).Up(); err != nil {
				t.Fatal(err)
			}
			h := hk.start(t, hubHost, relayURL)
			for i, kind := range []natlab.NATKind{natlab.EndpointIndependent, natlab.RandomPort} {
				t.Run(kind.String(), func(t *testing.T) {
					r := lab.Router(t, fmt.Sprintf("s%d", i), roamlab.RouterSpec{Kind: kind, UPnP: true})
					spoke := lab.Host(t, fmt.Sprintf("spoke%d", i))
					link := lab.Attach(t, spoke, r)
					if err := link.Up(); err != nil {
						t.Fatal(err)
					}
					s := dial(t, spoke, "mapped", "relay", "--hub", h.id, "--relay", relayURL)
					connected := time.Now()
					s.start()
					direct := s.waitStatus("path_changed", "direct")
					time.Sleep(300 * time.Millisecond)
					leases, err := r.Leases()
					if err != nil {
						t.Fatal(err)
					}
					if !contains(leases, "UDP:", ":"+link.Addr().String()+":") {
						t.Fatalf("miniupnpd has no UDP mapping for %v: %q", link.Addr(), leases)
					}
					s.finish()
					if after, err := r.Leases(); err != nil || len(after) != 0 {
						t.Fatalf("mapping not deleted when the spoke closed: %q %v", after, err)
					}
					t.Logf("%s NAT + miniupnpd, %s: direct %v after connecting on the relay; %d events; lease %s",
						kind, hk.name, direct.Sub(connected).Round(time.Millisecond), s.events(), strings.Join(leases, " "))
				})
			}
		})
	}
}
