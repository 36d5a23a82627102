package interoptest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
)

// TestGoSpokeIrohHub: echoes from the real hub, fan-out both ways with a
// real iroh spoke.
func TestGoSpokeIrohHub(t *testing.T) {
	t.Parallel()
	h := interop.StartHub(t, interop.HubOptions{})
	addr := irohHubAddr(t, h)
	var connected spoke.StatusEvent
	tg := dial(t, newEndpoint(t, quic.Config{}), addr, spoke.WithStatus(func(ev spoke.StatusEvent) {
		if ev.Kind == spoke.EventConnected {
			connected = ev
		}
	}))
	if connected.Path != spoke.PathDirect {
		t.Fatalf("connected event %+v", connected)
	}
	c := collect(tg)
	dispatchRange(t, tg, "g", 0, 5)
	c.waitFor(t, 10*time.Second, echoKeys("g", 0, 5)...)

	// A listening iroh spoke receives our frames unchanged.
	l := interop.StartSpokeListener(t, interop.SpokeOptions{ID: h.EndpointID, Addrs: h.Addrs})
	dispatchRange(t, tg, "f", 0, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frames, err := l.Frames(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(frames[0].Body); got != `{"type":"ev","id":"f0","payload":{"n":1}}` {
		t.Fatalf("iroh listener got %s", got)
	}
	// Frames an iroh spoke sends reach us as fan-out.
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{ID: h.EndpointID, Addrs: h.Addrs, Count: 3, Name: "node"})
	if err != nil || res.Echoes != 3 {
		t.Fatalf("iroh spoke: %+v, %v", res, err)
	}
	c.waitFanout(t, "node", 3, 10*time.Second)
}

// TestIrohSpokeGoHub: a real iroh spoke against our hub, with a Go spoke
// connected at the same time.
func TestIrohSpokeGoHub(t *testing.T) {
	t.Parallel()
	addr := startGoHub(t)
	tg := dial(t, newEndpoint(t, quic.Config{}), addr)
	c := collect(tg)
	dispatchRange(t, tg, "go", 0, 1)
	c.waitFor(t, 5*time.Second, echoKeys("go", 0, 1)...)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l := interop.StartSpokeListener(t, interop.SpokeOptions{ID: addr.ID.String(), Addrs: addr.Addrs})
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: addr.ID.String(), Addrs: addr.Addrs, Count: 4, Name: "node",
		SendRaw: [][]byte{[]byte(`{"type":1,"id":"bad"}`)},
	})
	if err != nil || res.Echoes != 4 || len(res.Errors) != 1 {
		t.Fatalf("iroh spoke against Go hub: %+v, %v", res, err)
	}
	fromNode := func() int {
		fan := 0
		for k, v := range c.counts {
			if strings.HasPrefix(k, "envelope/") || (!strings.Contains(k, ".echo") && strings.Contains(k, "node")) {
				fan += v
			}
		}
		return fan
	}
	c.waitUntil(t, 5*time.Second, func() bool { return fromNode() >= 4 }, func() string {
		return fmt.Sprintf("Go spoke got %d fan-out frames from the iroh spoke: %v", fromNode(), c.counts)
	})
	dispatchRange(t, tg, "to-node", 0, 1)
	frames, err := l.Frames(ctx, 5) // the four from the other iroh spoke, then ours
	if err != nil {
		t.Fatal(err)
	}
	if got := string(frames[4].Body); got != `{"type":"ev","id":"to-node0","payload":{"n":1}}` {
		t.Fatalf("iroh listener got %s", got)
	}
}

// testRestart stops the real hub (gracefully or not), dispatches during the
// outage, restarts it with the same key and port, and checks that every
// event is echoed exactly once and that the spoke reconnects promptly.
func testRestart(t *testing.T, kill bool) {
	secret := randomSecretHex(t)
	h := interop.StartHub(t, interop.HubOptions{Bind: "127.0.0.1:0", SecretHex: secret})
	addr := irohHubAddr(t, h)
	reconnected := make(chan time.Time, 4)
	disconnected := make(chan error, 4)
	// A short idle timeout makes a killed hub noticed in about a second.
	ep := newEndpoint(t, quic.Config{IdleTimeout: time.Second, KeepAlive: 250 * time.Millisecond})
	tg := dial(t, ep, addr,
		spoke.WithBackoff(50*time.Millisecond, 250*time.Millisecond, 0.2),
		spoke.WithAttemptTimeout(500*time.Millisecond),
		spoke.WithStatus(func(ev spoke.StatusEvent) {
			switch ev.Kind {
			case spoke.EventReconnected:
				reconnected <- ev.Time
			case spoke.EventDisconnected:
				disconnected <- ev.Err
			}
		}))
	c := collect(tg)
	dispatchRange(t, tg, "before", 0, 20)
	c.waitFor(t, 10*time.Second, echoKeys("before", 0, 20)...)

	stopped := time.Now()
	if kill {
		h.Kill()
	} else if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	dispatchRange(t, tg, "during", 0, 20)
	select {
	case err := <-disconnected:
		var ce *spoke.CloseError
		if !kill && (!errors.As(err, &ce) || ce.Reason != "hub shutting down") {
			t.Errorf("graceful stop surfaced as %v", err)
		}
		if kill && !errors.Is(err, quic.ErrIdleTimeout) {
			t.Errorf("hard kill surfaced as %v", err)
		}
		t.Logf("outage detected after %v: %v", time.Since(stopped).Round(time.Millisecond), err)
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect noticed")
	}
	h2 := interop.StartHub(t, interop.HubOptions{Bind: addr.Addrs[0].String(), SecretHex: secret})
	back := time.Now()
	select {
	case at := <-reconnected:
		if d := at.Sub(back); d > 2*time.Second {
			t.Errorf("reconnected %v after the hub came back", d)
		} else {
			t.Logf("reconnected %v after the hub's ready line", d.Round(time.Millisecond))
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no reconnection; status %+v", tg.Status())
	}
	_ = h2
	dispatchRange(t, tg, "after", 0, 20)
	all := append(append(echoKeys("before", 0, 20), echoKeys("during", 0, 20)...), echoKeys("after", 0, 20)...)
	c.waitFor(t, 10*time.Second, all...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tg.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	c.fence(t, tg, 5*time.Second)
	for _, k := range all {
		if n := c.count(k); n != 1 {
			t.Errorf("%s echoed %d times", k, n)
		}
	}
	if st := tg.Status(); st.Stats.Failed != 0 || st.Reconnects != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestGracefulHubRestart(t *testing.T) { t.Parallel(); testRestart(t, false) }
func TestHardHubKill(t *testing.T)        { t.Parallel(); testRestart(t, true) }

func TestWrongHubID(t *testing.T) {
	t.Parallel()
	h := interop.StartHub(t, interop.HubOptions{})
	addr := irohHubAddr(t, h)
	addr.ID = identity.EndpointID{1} // some other key
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := spoke.DialVia(ctx, spoke.NewQUICDialer(newEndpoint(t, quic.Config{})), addr)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong id: %v", err)
	}
}
