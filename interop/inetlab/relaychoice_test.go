//go:build linux

package inetlab_test

import (
	"context"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop/inetlab"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

// relayDelays are scenario 2's relays: added latency each way, so the
// round trips are about 130, 50 and 6 ms. The nearest is listed last, so
// map order alone cannot pick it.
var relayDelays = []inetlab.RelaySpec{
	{Name: inetlab.ProdRelays[0], Delay: 65 * time.Millisecond},
	{Name: inetlab.ProdRelays[1], Delay: 25 * time.Millisecond},
	{Name: inetlab.ProdRelays[2], Delay: 3 * time.Millisecond},
}

// TestNearestRelayAndFailover (scenario 2): with three relays at
// different distances, a zero-flag hub makes the nearest its home relay.
// The spoke (behind a random-port NAT, so the connection has to stay on
// the relay) exchanges envelopes; then the home relay crashes (SIGKILL).
// The hub moves to the next nearest relay and publishes it, and envelopes
// sent after the failure are all echoed: the connection (or its
// reconnection) keeps every event.
func TestNearestRelayAndFailover(t *testing.T) {
	lab := inetlab.New(t, inetlab.Spec{
		Relays: relayDelays,
		Homes: []inetlab.HomeSpec{
			{Name: "a", NAT: natlab.EndpointIndependent},
			{Name: "b", NAT: natlab.RandomPort},
		},
	})
	nearest, next := lab.Relay(inetlab.ProdRelays[2]), lab.Relay(inetlab.ProdRelays[1])
	ctx := stepCtx(t)
	hub := lab.StartHub(t, lab.Home("a").Host, nil)
	id := mustID(t, hub.EndpointID)
	if relayHostOf(hub.RelayURL) != nearest.Name {
		t.Fatalf("home relay %q, want the nearest %s\n%s", hub.RelayURL, nearest.Name, hub.Stderr())
	}
	if _, err := lab.DNS.WaitPublished(ctx, inetlab.ProdOrigin, id); err != nil {
		t.Fatal(err)
	}

	d := lab.StartDial(t, lab.Home("b").Host, nil, "--hub", hub.EndpointID, "--linger", "300ms")
	if _, err := d.WaitEvent(ctx, "connected", "relay"); err != nil {
		t.Fatal(err)
	}
	echoRound(ctx, t, d, ids("failover", 0, 3))

	died := time.Now()
	nearest.Kill()
	info, err := waitRepublished(ctx, lab, id, nearest.URL())
	if err != nil {
		t.Fatalf("%v\nhub stderr:\n%s", err, hub.Stderr())
	}
	moved := time.Since(died)
	if len(info.Relays) != 1 || !sameRelay(info.Relays[0], next.URL()) {
		t.Fatalf("after the failure the hub published %v, want the next nearest %s", info.Relays, next.URL())
	}
	echoCtx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	echoRound(echoCtx, t, d, ids("failover", 3, 3))
	resumed := time.Since(died)
	if err := d.Finish(ctx); err != nil {
		t.Fatalf("%v\n%s", err, d.Stderr())
	}
	var events []string
	for _, st := range d.Statuses() {
		if st.At > died.Sub(d.Started) {
			events = append(events, st.Raw)
		}
	}
	t.Logf("home relay %s (RTT +%v) among %v; after it died: republished %s after %v, echoes again after %v",
		nearest.Name, 2*nearest.Delay, relayDelays, next.Name, moved, resumed)
	t.Logf("dial status lines after the failure: %v", events)
}

// waitRepublished polls the production lookup server until id's record
// names a relay other than old.
func waitRepublished(ctx context.Context, lab *inetlab.Lab, id identity.EndpointID, old string) (lookup.EndpointInfo, error) {
	for {
		info, err := lab.DNS.Published(ctx, inetlab.ProdOrigin, id)
		if err == nil && len(info.Relays) > 0 && !sameRelay(info.Relays[0], old) {
			return info, nil
		}
		select {
		case <-ctx.Done():
			return info, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
