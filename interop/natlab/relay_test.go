//go:build linux

package natlab_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
)

const stepTimeout = 30 * time.Second

// envelopes returns n stdin lines for irohspoke dial and the echo lines the
// hub must answer them with.
func envelopes(name string, n int) (stdin string, echoes []string) {
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, `{"type":"%s","id":"%d","payload":[%d]}`+"\n", name, i, i)
		echoes = append(echoes, fmt.Sprintf(`{"type":"%s.echo","id":"%d","payload":[%d]}`, name, i, i))
	}
	return in.String(), echoes
}

// checkDial requires a clean exit, exactly the expected echoes and the
// expected path.
func checkDial(t *testing.T, res natlab.DialResult, echoes []string, path string) {
	t.Helper()
	if res.Code != 0 {
		t.Fatalf("dial failed: %v", res)
	}
	if got := strings.Split(strings.TrimSpace(res.Stdout), "\n"); strings.Join(got, "\n") != strings.Join(echoes, "\n") {
		t.Errorf("echoes:\n%s\nwant:\n%s", res.Stdout, strings.Join(echoes, "\n"))
	}
	if p := res.Path(); p != path {
		t.Errorf("connected over %q, want %q\n%s", p, path, res.Stderr)
	}
}

func sameRelay(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }

// relayLab is a relay on the public side and two private hosts: a behind
// an endpoint-independent NAT, b behind a random-port NAT.
func relayLab(t *testing.T, public ...string) (lab *natlab.Lab, relayURL string) {
	t.Helper()
	lab = natlab.New(t, natlab.Spec{
		NATs: []natlab.NATSpec{
			{Name: "a", Kind: natlab.EndpointIndependent},
			{Name: "b", Kind: natlab.RandomPort},
		},
		Public: append([]string{"relay"}, public...),
	})
	relayURL, _ = lab.MustHost(t, "relay").StartRelay(t)
	return lab, relayURL
}

// startIrohHub runs the real iroh hub on h, homed at relayURL.
func startIrohHub(t *testing.T, h *natlab.Host, relayURL string) *interop.Hub {
	t.Helper()
	hub := interop.StartHub(t, interop.HubOptions{
		Netns: h.Netns, Bind: "0.0.0.0:0", RelayURL: relayURL, OnlineTimeout: 10 * time.Second,
	})
	if !sameRelay(hub.RelayURL, relayURL) {
		t.Fatalf("iroh hub home relay %q, want %q", hub.RelayURL, relayURL)
	}
	return hub
}

func TestRelayAcrossNATs(t *testing.T) {
	lab, relayURL := relayLab(t)
	a, b := lab.NAT("a").Host, lab.NAT("b").Host

	t.Run("go-dial-to-iroh-hub", func(t *testing.T) {
		hub := startIrohHub(t, a, relayURL)
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		stdin, echoes := envelopes("natRelay", 3)
		res := b.Dial(ctx, t, stdin, "--hub", hub.EndpointID, "--relay", relayURL, "--linger", "1s", "--no-reconnect")
		checkDial(t, res, echoes, "relay")
		if err := hub.Stop(); err != nil {
			t.Error(err)
		}
	})

	t.Run("iroh-spoke-to-go-hub", func(t *testing.T) {
		hub := a.StartGoHub(t, relayURL)
		if !sameRelay(hub.RelayURL, relayURL) {
			t.Fatalf("Go hub home relay %q, want %q", hub.RelayURL, relayURL)
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
			Netns: b.Netns, ID: hub.EndpointID, RelayURL: relayURL, Count: 3, Size: 2000, Bind: "0.0.0.0:0",
		})
		if err != nil {
			t.Fatalf("iroh spoke via relay: %v\n%s", err, res.Stderr)
		}
		if res.Echoes != 3 {
			t.Errorf("iroh spoke got %d echoes, want 3", res.Echoes)
		}
		if err := hub.Stop(); err != nil {
			t.Error(err)
		}
	})
}

// TestDialRace: dial's direct attempt and its relay attempt race. A direct
// address that cannot be reached (the hub's private address, from behind
// another NAT) loses to the relay; a reachable public one wins.
func TestDialRace(t *testing.T) {
	lab, relayURL := relayLab(t, "pub")
	a, b := lab.NAT("a").Host, lab.NAT("b").Host

	t.Run("private-address-falls-back-to-relay", func(t *testing.T) {
		hub := startIrohHub(t, a, relayURL)
		var private []string
		for _, ap := range hub.Addrs {
			if ap.Addr() == a.Addr() {
				private = append(private, "--addr", ap.String())
			}
		}
		if len(private) == 0 {
			t.Fatalf("iroh hub advertises no address on %v: %v", a.Addr(), hub.Addrs)
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		stdin, echoes := envelopes("fallback", 2)
		args := append([]string{"--hub", hub.EndpointID, "--relay", relayURL, "--linger", "1s", "--no-reconnect"}, private...)
		checkDial(t, b.Dial(ctx, t, stdin, args...), echoes, "relay")
	})

	t.Run("public-address-goes-direct", func(t *testing.T) {
		pub := lab.MustHost(t, "pub")
		hub := startIrohHub(t, pub, relayURL)
		direct := netip.AddrPort{}
		for _, ap := range hub.Addrs {
			if ap.Addr() == pub.Addr() {
				direct = ap
			}
		}
		if !direct.IsValid() {
			t.Fatalf("iroh hub advertises no address on %v: %v", pub.Addr(), hub.Addrs)
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		stdin, echoes := envelopes("direct", 2)
		res := b.Dial(ctx, t, stdin, "--hub", hub.EndpointID, "--relay", relayURL, "--addr", direct.String(), "--linger", "1s", "--no-reconnect")
		checkDial(t, res, echoes, "direct")
	})
}
