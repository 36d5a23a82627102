package endpoint_test

import (
	"context"
	"log"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// A spoke that knows only its hub's EndpointId: the N0 preset finds the
// hub's home relay by DNS, chooses a home relay of its own and moves the
// connection to a direct path once hole punching opens one. (Not run: it
// talks to n0's servers.)
func Example() {
	ctx := context.Background()
	hubID, err := identity.ParseEndpointID("ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6")
	if err != nil {
		log.Fatal(err)
	}
	ep, err := endpoint.Bind(ctx, endpoint.Options{Preset: endpoint.N0()})
	if err != nil {
		log.Fatal(err)
	}
	defer ep.Close()
	t, err := spoke.Dial(ctx, ep, identity.EndpointAddr{ID: hubID})
	if err != nil {
		log.Fatal(err) // says why: lookup, relay, wrong key, ...
	}
	defer t.Close()
	if err := t.Dispatch(ctx, wire.Envelope{Type: "hello", ID: "1"}); err != nil {
		log.Fatal(err)
	}
	log.Printf("home relay %s: %+v", ep.HomeRelay(), ep.NetReport())
}
