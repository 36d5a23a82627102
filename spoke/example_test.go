package spoke_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// A spoke dials a hub by its EndpointId and addresses, listens for the
// echo and dispatches an event. Here the hub runs in the same process on
// loopback; a real one is an iroh endpoint accepting ALPN alkpubsub/1.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	addr, _, stop := exampleHub(ctx)
	defer stop()

	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer ep.Close()
	t, err := spoke.Dial(ctx, ep, addr)
	if err != nil {
		panic(err)
	}
	defer t.Close()

	echoed := make(chan wire.Envelope, 1)
	t.AddListener("chat.echo", func(e wire.Envelope) { echoed <- e })
	if err := t.Dispatch(ctx, wire.Envelope{Type: "chat", ID: "1", Payload: []byte(`{"text":"hi"}`)}); err != nil {
		panic(err)
	}
	e := <-echoed
	fmt.Println(e.Type, e.ID, string(e.Payload))
	// Output: chat.echo 1 {"text":"hi"}
}

// A spoke that only listens: it never dispatches, yet receives what
// another spoke sends, because its stream reaches the hub as soon as it
// is open.
func Example_listenOnly() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	addr, connected, stop := exampleHub(ctx)
	defer stop()

	dial := func() *spoke.Target {
		ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0"})
		if err != nil {
			panic(err)
		}
		t, err := spoke.Dial(ctx, ep, addr)
		if err != nil {
			panic(err)
		}
		t.AddStatusListener(func(e spoke.StatusEvent) {
			if e.Kind == spoke.EventClosed {
				ep.Close()
			}
		})
		return t
	}
	listener := dial()
	defer listener.Close()
	got := make(chan wire.Envelope, 1)
	listener.AddListener("news", func(e wire.Envelope) { got <- e })

	sender := dial()
	defer sender.Close()
	<-connected // both streams have reached the hub
	<-connected
	if err := sender.Dispatch(ctx, wire.Envelope{Type: "news", ID: "7", Payload: []byte(`"fresh"`)}); err != nil {
		panic(err)
	}
	e := <-got
	fmt.Println(e.Type, e.ID, string(e.Payload))
	// Output: news 7 "fresh"
}

// exampleHub runs a hub on loopback, as a real iroh hub would run
// elsewhere, and returns its address and a channel that receives each
// spoke whose stream reached it.
func exampleHub(ctx context.Context) (identity.EndpointAddr, <-chan *hub.Spoke, func()) {
	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", ALPNs: []string{hub.ALPN}})
	if err != nil {
		panic(err)
	}
	connected := make(chan *hub.Spoke, 8)
	h := hub.New(hub.Options{OnConnect: func(s *hub.Spoke) {
		select {
		case connected <- s:
		default: // nobody is counting
		}
	}})
	go h.Serve(ctx, ep)
	stop := func() { h.Close(); ep.Close() }
	return identity.EndpointAddr{ID: ep.ID(), Addrs: ep.Addrs()}, connected, stop
}
