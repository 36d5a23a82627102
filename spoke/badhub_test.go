package spoke_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/hubtest"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

func quicEndpoint(t *testing.T, alpns ...string) *quic.Endpoint {
	return hubtest.Endpoint(t, quic.Config{ALPNs: alpns})
}

// badHub accepts connections and, on each stream, answers the first frame
// with the given bytes and then echoes nothing; it counts connections.
func badHub(t *testing.T, reply func(n int) []byte) (identity.EndpointAddr, <-chan int) {
	ep := quicEndpoint(t, spoke.ALPN)
	conns := make(chan int, 16)
	go func() {
		for n := 1; ; n++ {
			c, err := ep.Accept(context.Background())
			if err != nil {
				return
			}
			conns <- n
			go func(n int) {
				s, err := c.AcceptStream(context.Background())
				if err != nil {
					return
				}
				r := wire.NewReader(s, 0)
				if _, _, err := r.ReadEnvelope(); err != nil {
					return
				}
				s.Write(reply(n))
				for {
					e, _, err := r.ReadEnvelope()
					if err != nil {
						return
					}
					b, _ := wire.AppendFrame(nil, e.Echo())
					s.Write(b)
				}
			}(n)
		}
	}()
	return identity.EndpointAddr{ID: ep.ID(), Addrs: []netip.AddrPort{netip.MustParseAddrPort(ep.LocalAddr().String())}}, conns
}

func dialBad(t *testing.T, addr identity.EndpointAddr) (*spoke.Target, <-chan spoke.StatusEvent) {
	t.Helper()
	events := make(chan spoke.StatusEvent, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tg, err := spoke.DialVia(ctx, spoke.NewQUICDialer(quicEndpoint(t)), addr,
		spoke.WithBackoff(10*time.Millisecond, 50*time.Millisecond, 0),
		spoke.WithStatus(func(ev spoke.StatusEvent) { events <- ev }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg, events
}

func waitKind(t *testing.T, ch <-chan spoke.StatusEvent, kind spoke.EventKind) spoke.StatusEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ch:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func TestMalformedFrameFromHub(t *testing.T) {
	addr, _ := badHub(t, func(int) []byte {
		body := []byte(`{"type":"x"`) // not a complete object
		return append([]byte{0, 0, 0, byte(len(body))}, body...)
	})
	tg, events := dialBad(t, addr)
	echoes := tg.Events(context.Background(), 4)
	must(t, tg.Dispatch(context.Background(), wire.Envelope{Type: "a", ID: "1"}))
	ev := waitKind(t, events, spoke.EventMalformed)
	if !errors.Is(ev.Err, wire.ErrInvalidJSON) {
		t.Fatalf("malformed event %v", ev.Err)
	}
	// The same stream goes on.
	must(t, tg.Dispatch(context.Background(), wire.Envelope{Type: "a", ID: "2"}))
	select {
	case e := <-echoes:
		if e.Type != "a.echo" || e.ID != "2" {
			t.Fatalf("got %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo after the malformed frame")
	}
	if st := tg.Status(); st.Reconnects != 0 || st.Stats.Malformed != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestOversizeFrameFromHub(t *testing.T) {
	addr, conns := badHub(t, func(n int) []byte {
		if n == 1 {
			return []byte{0xff, 0xff, 0xff, 0xff}
		}
		return nil
	})
	tg, events := dialBad(t, addr)
	must(t, tg.Dispatch(context.Background(), wire.Envelope{Type: "a", ID: "1"}))
	if ev := waitKind(t, events, spoke.EventMalformed); !errors.Is(ev.Err, wire.ErrFrameTooLarge) {
		t.Fatalf("malformed event %v", ev.Err)
	}
	waitKind(t, events, spoke.EventDisconnected)
	waitKind(t, events, spoke.EventReconnected)
	<-conns
	<-conns
	// The target is alive on the new connection.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, tg.Dispatch(ctx, wire.Envelope{Type: "a", ID: "2"}))
	must(t, tg.Flush(ctx))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
