package endpoint

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// TestSpokeTargetOverRelay: a spoke target dialed through the endpoint
// reaches a Go hub by relay only, and its envelopes are echoed.
func TestSpokeTargetOverRelay(t *testing.T) {
	r := startRelay(t)
	srv := bind(t, Options{RelayURL: r.URL, ALPNs: []string{hub.ALPN}})
	ctx := testCtx(t, 20*time.Second)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Options{Logger: testLogger()})
	go h.Serve(ctx, srv)
	defer h.Close()

	cli := bind(t, Options{})
	var _ spoke.Endpoint = cli
	tgt, err := spoke.Dial(ctx, cli, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	echoes := make(chan wire.Envelope, 16)
	tgt.AddListener(spoke.Wildcard, func(e wire.Envelope) { echoes <- e })
	const n = 10
	for i := range n {
		if err := tgt.Dispatch(ctx, wire.Envelope{Type: "t", ID: fmt.Sprint(i), Payload: []byte(`{"i":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tgt.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		select {
		case e := <-echoes:
			if e.Type != "t"+wire.EchoSuffix || e.ID != fmt.Sprint(i) {
				t.Fatalf("echo %d: %+v", i, e)
			}
		case <-ctx.Done():
			t.Fatalf("echo %d missing", i)
		}
	}
	if st := tgt.Status(); st.Path != spoke.PathDirect {
		// The ticket has a direct address, which wins on loopback.
		t.Fatalf("path %v", st.Path)
	}

	relayOnly := identity.EndpointAddr{ID: srv.ID(), Relays: []string{srv.HomeRelay()}}
	tgt2, err := spoke.Dial(ctx, cli, relayOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt2.Close()
	if st := tgt2.Status(); st.Path != spoke.PathRelay {
		t.Fatalf("relay-only target on path %v", st.Path)
	}
	if err := tgt2.Dispatch(ctx, wire.Envelope{Type: "r", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := tgt2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}
