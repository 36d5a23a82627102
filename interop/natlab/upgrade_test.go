//go:build linux

package natlab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
)

// upgradeLab is a relay and a "pub" host on the public segment, host a
// behind an endpoint-independent NAT and host b behind a random-port NAT.
func upgradeLab(t *testing.T) (lab *natlab.Lab, relayURL string, relay *natlab.Proc) {
	t.Helper()
	lab = natlab.New(t, natlab.Spec{
		NATs: []natlab.NATSpec{
			{Name: "a", Kind: natlab.EndpointIndependent},
			{Name: "b", Kind: natlab.RandomPort},
		},
		Public: []string{"relay", "pub"},
	})
	relayURL, relay = lab.MustHost(t, "relay").StartRelay(t)
	return lab, relayURL, relay
}

// statusLine waits until the dial process's stderr has a status line with
// event (and, if path is not empty, that path); it returns when it saw it.
func statusLine(ctx context.Context, t *testing.T, p *natlab.Proc, event, path string) time.Time {
	t.Helper()
	for {
		for _, l := range strings.Split(p.Stderr(), "\n") {
			var st struct{ Event, Path string }
			if json.Unmarshal([]byte(l), &st) == nil && st.Event == event && (path == "" || st.Path == path) {
				return time.Now()
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s %s status line:\n%s", event, path, p.Stderr())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// echo sends envelope i to the dial process and waits for its echo.
func echo(ctx context.Context, t *testing.T, p *natlab.Proc, name string, i int) {
	t.Helper()
	if _, err := fmt.Fprintf(p.Stdin, `{"type":"%s","id":"%d","payload":[%d]}`+"\n", name, i, i); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"type":"%s.echo","id":"%d","payload":[%d]}`, name, i, i)
	got, err := p.Line(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("echo %s, want %s", got, want)
	}
}

// dialUpgrades runs "irohspoke dial" on h toward a hub known only by id
// and relay, requires it to connect over the relay and then report a move
// to a direct path, and returns the time that took. With killRelay, the
// relay is stopped once the path is direct and echoes must go on: the
// data no longer goes through it.
func dialUpgrades(t *testing.T, h *natlab.Host, hubID, relayURL string, relay *natlab.Proc) time.Duration {
	t.Helper()
	_, d := dialUpgradesWith(t, h, relay, "--hub", hubID, "--relay", relayURL)
	return d
}

// dialUpgradesWith is dialUpgrades with the dial flags given; it also
// returns the dial process (for its status lines).
func dialUpgradesWith(t *testing.T, h *natlab.Host, relay *natlab.Proc, flags ...string) (*natlab.Proc, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	p := h.Start(t, natlab.Irohspoke(t), append([]string{"dial", "--linger", "500ms", "--no-reconnect"}, flags...)...)
	connected := statusLine(ctx, t, p, "connected", "relay")
	direct := statusLine(ctx, t, p, "path_changed", "direct")
	echo(ctx, t, p, "upgrade", 0)
	for i := 1; i <= 3; i++ {
		echo(ctx, t, p, "upgrade", i)
	}
	if relay != nil {
		if err := relay.Stop(); err != nil {
			t.Fatal(err)
		}
		for i := 4; i <= 8; i++ {
			echo(ctx, t, p, "upgrade", i)
		}
	}
	p.Stdin.Close()
	if _, err := p.Line(ctx); err != io.EOF && !strings.Contains(fmt.Sprint(err), "exited") {
		t.Fatalf("dial after stdin closed: %v", err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("%v\n%s", err, p.Stderr())
	}
	return p, direct.Sub(connected)
}

// TestUpgradeGoSpokeToIrohHub (upgrade A): real iroh hub on the public
// segment, our spoke behind an endpoint-independent NAT knowing only the
// hub's EndpointId and relay. The connection starts on the relay, our
// hole-punching round reaches the hub's announced public address, and the
// data moves to the direct path: echoes go on after the relay is stopped.
func TestUpgradeGoSpokeToIrohHub(t *testing.T) {
	lab, relayURL, relay := upgradeLab(t)
	hub := startIrohHub(t, lab.MustHost(t, "pub"), relayURL)
	d := dialUpgrades(t, lab.NAT("a").Host, hub.EndpointID, relayURL, relay)
	t.Logf("time to direct (connected → path_changed): %v", d)
}

// TestUpgradeRandomPortNAT: the same with our spoke behind a random-port
// (symmetric) NAT. The hub is public, so the spoke's probe creates the
// mapping the hub's answer comes back through.
func TestUpgradeRandomPortNAT(t *testing.T) {
	lab, relayURL, _ := upgradeLab(t)
	hub := startIrohHub(t, lab.MustHost(t, "pub"), relayURL)
	d := dialUpgrades(t, lab.NAT("b").Host, hub.EndpointID, relayURL, nil)
	t.Logf("time to direct behind a random-port NAT: %v", d)
}

// TestUpgradeIrohSpokeToGoHub (upgrade B): our hub (multipath on) on the
// public segment, a real iroh spoke behind an endpoint-independent NAT
// dialing by EndpointId and relay. iroh starts on the relay, hole-punches
// to the candidate our hub announced (ADD_ADDRESS) and selects the direct
// path; our hub moves its data there too.
func TestUpgradeIrohSpokeToGoHub(t *testing.T) {
	lab, relayURL, _ := upgradeLab(t)
	pub := lab.MustHost(t, "pub")
	hub := pub.StartGoHub(t, relayURL)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		Netns: lab.NAT("a").Host.Netns, ID: hub.EndpointID, RelayURL: relayURL,
		Count: 3, Size: 100, Bind: "0.0.0.0:0", Linger: 3 * time.Second,
	})
	if err != nil {
		t.Fatalf("iroh spoke: %v\n%s", err, res.Stderr)
	}
	if res.Echoes != 3 {
		t.Errorf("iroh spoke got %d echoes, want 3", res.Echoes)
	}
	var direct netip.AddrPort
	for _, p := range res.Paths {
		if p.IsSelected && !p.IsRelay {
			direct, _ = netip.ParseAddrPort(p.RemoteAddr)
		}
	}
	if direct.Addr() != pub.Addr() {
		t.Fatalf("iroh's selected path is not our hub's public address %v: %+v", pub.Addr(), res.Paths)
	}
	sel := hubPathSelected(t, hub)
	t.Logf("iroh paths %+v; hub selected %s after %s", res.Paths, sel.Addr, sel.SinceConnect)
	if err := hub.Stop(); err != nil {
		t.Error(err)
	}
}

type pathSelected struct {
	Addr         string        `json:"addr"`
	Relay        bool          `json:"relay"`
	SinceConnect time.Duration `json:"since_connect"` // slog writes nanoseconds
}

// hubPathSelected finds the hub's log line for its move to a direct path.
func hubPathSelected(t *testing.T, hub *natlab.GoHub) pathSelected {
	t.Helper()
	for _, l := range strings.Split(hub.Stderr(), "\n") {
		var rec struct {
			Msg string `json:"msg"`
			pathSelected
		}
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "endpoint: path selected" && !rec.Relay {
			return rec.pathSelected
		}
	}
	t.Fatalf("the hub never selected a direct path:\n%s", hub.Stderr())
	return pathSelected{}
}

// TestNoUpgradeBothBehindNATs: the iroh hub behind the endpoint-independent
// NAT, our spoke behind the random-port one. Without QUIC address
// discovery neither side knows its public mapping, so the only candidates
// are private addresses the other side cannot reach: the connection stays
// on the relay, and hole punching does not disturb it.
func TestNoUpgradeBothBehindNATs(t *testing.T) {
	lab, relayURL, _ := upgradeLab(t)
	hub := startIrohHub(t, lab.NAT("a").Host, relayURL)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	stdin, echoes := envelopes("stay", 3)
	// Linger past the first hole-punching rounds (each ~4 s of probes).
	res := lab.NAT("b").Host.Dial(ctx, t, stdin, "--hub", hub.EndpointID, "--relay", relayURL, "--linger", "5s", "--no-reconnect")
	checkDial(t, res, echoes, "relay")
	if strings.Contains(res.Stderr, "path_changed") {
		t.Fatalf("path changed without a reachable candidate:\n%s", res.Stderr)
	}
}
