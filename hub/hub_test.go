package hub_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/hubtest"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

func newEndpoint(t testing.TB, alpns ...string) *quic.Endpoint {
	return hubtest.Endpoint(t, quic.Config{ALPNs: alpns})
}

// startHub runs a Go hub on loopback and returns it and its address.
func startHub(t testing.TB, opts hub.Options) (*hubtest.Hub, identity.EndpointAddr) {
	h := hubtest.Start(t, opts)
	return h, h.Addr
}

func dialSpoke(t testing.TB, addr identity.EndpointAddr, opts ...spoke.Option) *spoke.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tg, err := spoke.DialVia(ctx, spoke.NewQUICDialer(newEndpoint(t)), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func next(t testing.TB, ch <-chan wire.Envelope) wire.Envelope {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5 s")
		return wire.Envelope{}
	}
}

func waitSpokes(t testing.TB, h *hubtest.Hub, n int) {
	t.Helper()
	h.WaitSpokes(t, n, 5*time.Second)
}

func TestEchoAndFanout(t *testing.T) {
	h, addr := startHub(t, hub.Options{})
	a := dialSpoke(t, addr)
	b := dialSpoke(t, addr)
	ctx := context.Background()
	aev, bev := a.Events(ctx, 16), b.Events(ctx, 16)
	// A spoke announces its stream as soon as it is open, so both are
	// registered before either sends.
	waitSpokes(t, h, 2)
	must(t, b.Dispatch(ctx, wire.Envelope{Type: "hello", ID: "b0"}))
	if e := next(t, bev); e.Type != "hello.echo" || e.ID != "b0" {
		t.Fatalf("b got %+v", e)
	}
	if e := next(t, aev); e.Type != "hello" || e.ID != "b0" {
		t.Fatalf("a got fan-out %+v", e)
	}
	must(t, a.Dispatch(ctx, wire.Envelope{Type: "chat", ID: "a1", Payload: []byte(`{"x":1}`)}))
	if e := next(t, aev); e.Type != "chat.echo" || e.ID != "a1" || string(e.Payload) != `{"x":1}` {
		t.Fatalf("a got %+v", e)
	}
	if e := next(t, bev); e.Type != "chat" || e.ID != "a1" || string(e.Payload) != `{"x":1}` {
		t.Fatalf("b got fan-out %+v", e)
	}
}

// rawSpoke is a hand-driven spoke for bad input.
func rawSpoke(t *testing.T, addr identity.EndpointAddr) (*quic.Conn, *quic.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := newEndpoint(t).Dial(ctx, quic.UDPAddr(addr.Addrs[0]), addr.ID, hub.ALPN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestMalformedAndGarbage(t *testing.T) {
	h, addr := startHub(t, hub.Options{})
	good := dialSpoke(t, addr)
	gev := good.Events(context.Background(), 16)
	must(t, good.Dispatch(context.Background(), wire.Envelope{Type: "hi", ID: "g"}))
	next(t, gev)

	c, s := rawSpoke(t, addr)
	// A malformed envelope draws an error answer and the stream goes on.
	body := []byte(`{"type": 5, "id": "m1"}`)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := s.Write(append(frame, body...)); err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(s, 0)
	e, _, err := r.ReadEnvelope()
	if err != nil || e.Type != wire.TypeError || e.ID != "m1" {
		t.Fatalf("error answer %+v, %v", e, err)
	}
	// Garbage: a length prefix far over the limit closes this spoke only.
	if _, err := s.Write([]byte{0xff, 0xff, 0xff, 0xff, 'x'}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("hub did not close the garbage spoke")
	}
	var ae *quic.ApplicationError
	if !errors.As(c.Err(), &ae) || ae.Code != hub.CloseFrameTooLarge || !ae.Remote {
		t.Fatalf("close error %v", c.Err())
	}
	must(t, good.Dispatch(context.Background(), wire.Envelope{Type: "still", ID: "here"}))
	if e := next(t, gev); e.Type != "still.echo" {
		t.Fatalf("good spoke got %+v", e)
	}
	if st := good.Status(); st.Reconnects != 0 {
		t.Fatalf("good spoke reconnected: %+v", st)
	}
	waitSpokes(t, h, 1)
}

func TestSlowSpokeIsDropped(t *testing.T) {
	h, addr := startHub(t, hub.Options{QueueFrames: 64, QueueBytes: 1 << 20})
	// The slow spoke opens its stream and then never reads.
	c, s := rawSpoke(t, addr)
	hello, _ := wire.AppendFrame(nil, wire.Envelope{Type: "hi", ID: "slow"})
	if _, err := s.Write(hello); err != nil {
		t.Fatal(err)
	}
	fast := dialSpoke(t, addr)
	fev := fast.Events(context.Background(), 1024)
	must(t, fast.Dispatch(context.Background(), wire.Envelope{Type: "hi", ID: "fast"}))
	next(t, fev)
	waitSpokes(t, h, 2)
	big := make([]byte, 16<<10)
	for i := range big {
		big[i] = 'a'
	}
	payload := append(append([]byte(`"`), big...), '"')
	const n = 300
	for i := range n {
		must(t, fast.Dispatch(context.Background(), wire.Envelope{Type: "bulk", ID: string(rune('a' + i%26)), Payload: payload}))
	}
	for i := range n {
		select {
		case <-fev: // every echo arrives although the other spoke stalls
		case <-time.After(5 * time.Second):
			t.Fatalf("echo %d of %d missing; fast spoke %+v", i, n, fast.Status())
		}
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("slow spoke was not dropped")
	}
	var ae *quic.ApplicationError
	if !errors.As(c.Err(), &ae) || ae.Code != hub.CloseSlowConsumer {
		t.Fatalf("slow spoke closed with %v", c.Err())
	}
}

func TestCustomRouterAndShutdown(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h, addr := startHub(t, hub.Options{Router: hub.RouterFunc(func(h *hub.Hub, from *hub.Spoke, e wire.Envelope, body []byte) {
		mu.Lock()
		seen = append(seen, e.ID)
		mu.Unlock()
		from.SendEnvelope(wire.Envelope{Type: "ack", ID: e.ID})
	})})
	disc := make(chan error, 4)
	tg := dialSpoke(t, addr, spoke.WithoutReconnect(), spoke.WithStatus(func(ev spoke.StatusEvent) {
		if ev.Kind == spoke.EventDisconnected {
			disc <- ev.Err
		}
	}))
	ev := tg.Events(context.Background(), 4)
	must(t, tg.Dispatch(context.Background(), wire.Envelope{Type: "x", ID: "1"}))
	if e := next(t, ev); e.Type != "ack" || e.ID != "1" {
		t.Fatalf("got %+v", e)
	}
	h.Close()
	select {
	case err := <-disc:
		var ce *spoke.CloseError
		if !errors.As(err, &ce) || ce.Code != hub.CloseOK || ce.Reason != "hub shutting down" || !ce.Remote {
			t.Fatalf("disconnect error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("spoke saw no disconnect")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
