package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

var demoCommand = &command{
	name:    "demo",
	summary: "run a relay, a hub and two spokes on loopback and show them talk",
	args:    "[--events N] [--size BYTES]",
	help: `
Runs the whole system in this process, on loopback only: an iroh-compatible
relay, a hub online at that relay, spoke A dialling the hub directly over
UDP, and spoke B that knows only the hub's EndpointId and the relay URL, so
its QUIC connection runs through the relay.

It shows each spoke's path and RTT, a fan-out (A's event echoed to A and
forwarded to B), then round trips of --events events of --size payload bytes
per spoke with events per second and p50/p99 latency. It exits 0 when every
event came back exactly once.`,
	flags: func(fs *flag.FlagSet) runFunc {
		events := fs.Int("events", 1000, "round trips per spoke")
		size := fs.Int("size", 1024, "payload `BYTES` per event")
		return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *events < 1 || *events > 1_000_000 {
				return usageErrorf("--events must be between 1 and 1000000")
			}
			if *size < 0 || *size > 1<<20 {
				return usageErrorf("--size must be between 0 and 1048576")
			}
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			return runDemo(ctx, *events, *size, stdout, stderr)
		}
	},
}

// demoWindow is how many events a spoke keeps in flight while measuring.
const demoWindow = 32

func runDemo(ctx context.Context, events, size int, out, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Fprintln(out, "irohspoke demo: relay, hub and two spokes in one process, loopback only")

	// The relay.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rs := relay.NewServer(relay.ServerConfig{Logger: logger})
	go rs.Serve(ln)
	defer rs.Close()
	relayURL := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(out, "relay    %s\n", relayURL)

	// The hub, online at the relay.
	hubEP, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", RelayURL: relayURL, ALPNs: []string{hub.ALPN},
		QUIC: hub.QUICConfig(nil), Logger: logger})
	if err != nil {
		return fmt.Errorf("hub endpoint: %w", err)
	}
	defer hubEP.Close()
	if err := hubEP.WaitRelay(ctx); err != nil {
		return fmt.Errorf("hub could not log in at the relay: %w", err)
	}
	h := hub.New(hub.Options{Logger: logger})
	go h.Serve(ctx, hubEP)
	defer h.Close()
	fmt.Fprintf(out, "hub      %s  udp %s, relay %s (echo + fan-out)\n", hubEP.ID().Short(), hubEP.Addrs()[0], hubEP.HomeRelay())

	// Spoke A dials directly; spoke B knows only the id and the relay.
	a, err := demoSpoke(ctx, "A", identity.EndpointAddr{ID: hubEP.ID(), Addrs: hubEP.Addrs()}, logger, out, false)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := demoSpoke(ctx, "B", identity.EndpointAddr{ID: hubEP.ID(), Relays: []string{relayURL}}, logger, out, true)
	if err != nil {
		return err
	}
	defer b.Close()

	if err := demoFanout(ctx, h, a, b, out); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		t    *spoke.Target
	}{{"A", a}, {"B", b}} {
		if err := demoRoundTrips(ctx, s.name, s.t, events, size, out); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "ok       every event came back exactly once")
	return nil
}

// demoSpoke dials the hub; relayOnly keeps the connection on the relay
// (no hole punching), so the demo shows one spoke on each kind of path.
func demoSpoke(ctx context.Context, name string, to identity.EndpointAddr, logger *slog.Logger, out io.Writer, relayOnly bool) (*spoke.Target, error) {
	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", Logger: logger, DisableMultipath: relayOnly})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	t, err := spoke.Dial(ctx, ep, to)
	if err != nil {
		ep.Close()
		return nil, fmt.Errorf("spoke %s: %w", name, err)
	}
	// The endpoint lives as long as the target.
	t.AddStatusListener(func(e spoke.StatusEvent) {
		if e.Kind == spoke.EventClosed {
			ep.Close()
		}
	})
	st := t.Status()
	fmt.Fprintf(out, "spoke %s  %s  connected in %v, path %s, rtt %v\n",
		name, ep.ID().Short(), time.Since(start).Round(10*time.Microsecond), st.Path, st.RTT.Round(time.Microsecond))
	return t, nil
}

// demoFanout sends one event from A and waits for A's echo and B's copy;
// B, which only listens, gets the copy without having sent anything.
func demoFanout(ctx context.Context, h *hub.Hub, a, b *spoke.Target, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// B has sent nothing: it only listens. Its stream reaches the hub
	// (through the relay) a moment after its handshake; wait for that.
	for len(h.Spokes()) < 2 {
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return errors.New("fan-out: the hub never saw spoke B's stream")
		}
	}
	echo := make(chan wire.Envelope, 1)
	copyB := make(chan wire.Envelope, 1)
	defer a.AddListener("chat.echo", func(e wire.Envelope) { trySend(echo, e) })()
	defer b.AddListener("chat", func(e wire.Envelope) { trySend(copyB, e) })()
	msg := wire.Envelope{Type: "chat", ID: "hello-1", Payload: []byte(`{"text":"hello from A"}`)}
	if err := a.Dispatch(ctx, msg); err != nil {
		return err
	}
	var gotEcho, gotCopy wire.Envelope
	for range 2 {
		select {
		case gotEcho = <-echo:
		case gotCopy = <-copyB:
		case <-ctx.Done():
			return errors.New("fan-out: echo or copy never arrived")
		}
	}
	fmt.Fprintf(out, "fan-out  A sent %s %s -> A got %s, B got %s %s\n",
		msg.Type, msg.Payload, gotEcho.Type, gotCopy.Type, gotCopy.Payload)
	return nil
}

func trySend(ch chan wire.Envelope, e wire.Envelope) {
	select {
	case ch <- e:
	default:
	}
}

// demoRoundTrips measures n echo round trips with demoWindow in flight.
func demoRoundTrips(ctx context.Context, name string, t *spoke.Target, n, size int, out io.Writer) error {
	payload := make([]byte, 0, size+2)
	payload = append(payload, '"')
	for i := range size {
		payload = append(payload, 'a'+byte(i%26))
	}
	payload = append(payload, '"')

	var mu sync.Mutex
	sent := make(map[string]time.Time, demoWindow)
	lat := make([]time.Duration, 0, n)
	dup := 0
	slots := make(chan struct{}, demoWindow)
	done := make(chan struct{})
	remove := t.AddListener("bench.echo", func(e wire.Envelope) {
		mu.Lock()
		defer mu.Unlock()
		at, ok := sent[e.ID]
		if !ok {
			dup++
			return
		}
		delete(sent, e.ID)
		lat = append(lat, time.Since(at))
		<-slots
		if len(lat) == n {
			close(done)
		}
	})
	defer remove()
	start := time.Now()
	for i := range n {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("spoke %s: %w", name, ctx.Err())
		}
		id := name + strconv.Itoa(i)
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		if err := t.Dispatch(ctx, wire.Envelope{Type: "bench", ID: id, Payload: payload}); err != nil {
			return fmt.Errorf("spoke %s: %w", name, err)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("spoke %s: only %d of %d echoes arrived", name, len(lat), n)
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if dup > 0 {
		return fmt.Errorf("spoke %s: %d duplicate echoes", name, dup)
	}
	slices.Sort(lat)
	st := t.Status()
	fmt.Fprintf(out, "spoke %s  %d round trips of %d B over %s: %.0f events/s, p50 %v, p99 %v\n",
		name, n, size, st.Path, float64(n)/elapsed.Seconds(),
		lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	return nil
}
