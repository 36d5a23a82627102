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

	hubEP, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0", ALPNs: []string{hub.ALPN}})
	if err != nil {
		panic(err)
	}
	defer hubEP.Close()
	h := hub.New(hub.Options{})
	go h.Serve(ctx, hubEP)
	defer h.Close()

	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	defer ep.Close()
	t, err := spoke.Dial(ctx, ep, identity.EndpointAddr{ID: hubEP.ID(), Addrs: hubEP.Addrs()})
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
