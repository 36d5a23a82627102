package endpoint

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// testRelayMap starts one relay per delay, each behind a delaying proxy,
// and returns the proxies (whose URLs are the relay URLs) in map order.
func testRelayMap(t *testing.T, delays ...time.Duration) ([]*testRelay, []*delayProxy) {
	t.Helper()
	var relays []*testRelay
	var proxies []*delayProxy
	for _, d := range delays {
		r := startRelay(t)
		relays = append(relays, r)
		proxies = append(proxies, startDelayProxy(t, r.addr, d))
	}
	return relays, proxies
}

// TestHomeRelayNearestAndFailover: a hub and a spoke share a map of three
// relays 10, 60 and 120 ms away (round trip, through delaying proxies);
// both make the nearest their home, the hub publishes it, and the spoke
// reaches the hub by EndpointId alone (DNS lookup through a loopback
// server). The nearest relay then dies mid-stream: both fail over to the
// next-nearest, the hub republishes, the spoke opens a path through the
// new relay on the same QUIC connection, and every event is echoed with
// no reconnect and nothing resent.
func TestHomeRelayNearestAndFailover(t *testing.T) {
	if testing.Short() {
		// Latency and path-share assertions do not hold under the race
		// detector's slowdown; make unit runs this test in full.
		t.Skip("timing-sensitive: runs without -short (make unit)")
	}
	relays, proxies := testRelayMap(t, 30*time.Millisecond, 5*time.Millisecond, 60*time.Millisecond)
	mid, near, far := proxies[0], proxies[1], proxies[2]
	url := func(p *delayProxy) string { return p.URL + "/" }
	ls := startLookupServer(t)
	preset := Preset{Name: "test", PkarrURL: ls.PkarrURL, DNSOrigin: ls.Origin, Publish: true}
	for _, p := range proxies {
		preset.Relays = append(preset.Relays, RelayNode{URL: p.URL})
	}
	var mu sync.Mutex
	var homeChanges []NetReport
	hubEP := bind(t, Options{Preset: preset, ALPNs: []string{hub.ALPN}, noNatTraversal: true, dnsNameserver: ls.DNS,
		OnNetReport: func(r NetReport) {
			mu.Lock()
			defer mu.Unlock()
			if len(homeChanges) == 0 || homeChanges[len(homeChanges)-1].Home != r.Home {
				homeChanges = append(homeChanges, r)
			}
		}})
	ctx := testCtx(t, 40*time.Second)
	start := time.Now()
	if err := hubEP.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("hub online at its home relay %v after Bind", time.Since(start).Round(time.Millisecond))
	nr := hubEP.NetReport()
	lat := map[string]time.Duration{}
	for _, rl := range nr.Relays {
		lat[rl.URL] = rl.Latency
		t.Logf("relay %s: %v (%s)", rl.URL, rl.Latency.Round(100*time.Microsecond), rl.Probe)
	}
	if nr.Home != url(near) || nr.Reason != reasonNearest || !nr.Full || nr.Reports < 1 {
		t.Fatalf("net report %+v, want home %s", nr, url(near))
	}
	if !(lat[url(near)] > 0 && lat[url(near)] < lat[url(mid)] && lat[url(mid)] < lat[url(far)]) {
		t.Fatalf("latencies %v not ordered near < mid < far", lat)
	}
	if v := hubEP.Expvar().Get("home_relay"); v == nil || v.String() != fmt.Sprintf("%q", url(near)) {
		t.Fatalf("expvar home_relay %v", v)
	}
	ls.published(t, ctx, hubEP, url(near))
	h := hub.New(hub.Options{Logger: testLogger()})
	go h.Serve(ctx, hubEP)
	t.Cleanup(func() { h.Close() })

	spokeEP := bind(t, Options{Preset: preset, noNatTraversal: true, dnsNameserver: ls.DNS})
	tgt, err := spoke.Dial(ctx, spokeEP, identity.EndpointAddr{ID: hubEP.ID()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tgt.Close() })
	if st := tgt.Status(); st.Path != spoke.PathRelay {
		t.Fatalf("spoke on %v, want the relay", st.Path)
	}
	echoes := make(chan time.Time, 1024)
	seen := map[string]int{}
	tgt.AddListener(spoke.Wildcard, func(e wire.Envelope) {
		mu.Lock()
		seen[e.ID]++
		mu.Unlock()
		echoes <- time.Now()
	})

	const events, killAt = 120, 25
	var killed time.Time
	for i := range events {
		if i == killAt {
			killed = time.Now()
			near.Kill()
			relays[1].stop()
		}
		if err := tgt.Dispatch(ctx, wire.Envelope{Type: "ev", ID: fmt.Sprint(i), Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var times []time.Time
	for len(times) < events {
		select {
		case at := <-echoes:
			times = append(times, at)
		case <-ctx.Done():
			mu.Lock()
			t.Fatalf("%d of %d echoes; hub report %+v", len(seen), events, hubEP.NetReport())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range events {
		if seen[fmt.Sprint(i)] != 1 {
			t.Fatalf("event %d echoed %d times", i, seen[fmt.Sprint(i)])
		}
	}
	// The outage is the longest silence between echoes.
	gap := time.Duration(0)
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i].Sub(times[i-1]))
	}
	after := slices.IndexFunc(times, func(at time.Time) bool { return at.After(killed) })
	nr = hubEP.NetReport()
	t.Logf("killed the home relay: hub failed over to %s after %v; longest gap between echoes %v; %d echoes after the kill",
		nr.Home, homeChangeAfter(homeChanges, killed).Round(time.Millisecond), gap.Round(time.Millisecond), len(times)-after)
	if nr.Home != url(mid) || nr.Reason != reasonFailover {
		t.Fatalf("hub home %s (%s), want the next-nearest %s", nr.Home, nr.Reason, url(mid))
	}
	if got := spokeEP.HomeRelay(); got != url(mid) {
		t.Fatalf("spoke home %s", got)
	}
	st := tgt.Status()
	if st.Reconnects != 0 || st.Stats.Resent != 0 {
		t.Fatalf("the spoke reconnected (%d) or resent (%d): the connection did not survive", st.Reconnects, st.Stats.Resent)
	}
	if hubEP.Metrics().RelayFailovers.Load() != 1 || spokeEP.Metrics().RelayPathsRepaired.Load() == 0 {
		t.Fatalf("failovers %d, repaired paths %d", hubEP.Metrics().RelayFailovers.Load(), spokeEP.Metrics().RelayPathsRepaired.Load())
	}
	ls.published(t, ctx, hubEP, url(mid))
}

// homeChangeAfter is how long after since the home relay changed.
func homeChangeAfter(changes []NetReport, since time.Time) time.Duration {
	for _, r := range changes {
		if r.Reason == reasonFailover {
			return r.HomeSince.Sub(since)
		}
	}
	return -1
}

// TestPresetCloseLeavesNothing: an endpoint choosing among relays stops
// its report loop, probes and relay clients on Close.
func TestPresetCloseLeavesNothing(t *testing.T) {
	r1, r2 := startRelay(t), startRelay(t)
	base := runtime.NumGoroutine()
	preset := Preset{Relays: []RelayNode{{URL: r1.URL}, {URL: r2.URL}}}
	e, err := Bind(context.Background(), Options{BindAddr: "127.0.0.1:0", Preset: preset, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WaitRelay(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	e.NetworkChanged(true) // a report in flight at Close
	e.Close()
	waitGoroutines(t, base)
}

// TestNoRelayAnswers: when no relay of the map answers, there is no home
// relay, and WaitRelay and NetReport say why.
func TestNoRelayAnswers(t *testing.T) {
	preset := Preset{Relays: []RelayNode{{URL: "http://" + closedTCPPort(t)}, {URL: "http://" + closedTCPPort(t)}}}
	e := bind(t, Options{Preset: preset})
	ctx := testCtx(t, time.Second) // the report ends at 400 ms: every probe refused
	err := e.WaitRelay(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("WaitRelay: %v", err)
	}
	nr := e.NetReport()
	if nr.Home != "" || nr.Reports != 1 || len(nr.Relays) != 2 {
		t.Fatalf("report %+v", nr)
	}
	for _, rl := range nr.Relays {
		if rl.Latency != 0 || rl.Err == nil {
			t.Fatalf("relay %+v", rl)
		}
	}
	if st := e.RelayStatus(); st.State != relay.StateConnecting || e.Addr().RelayURL() != "" {
		t.Fatalf("status %v, addr %v", st.State, e.Addr())
	}
	t.Log(err)
}
