package endpoint

import (
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// TestCloseReachesRelayedPeer: closing an endpoint tells a peer on a relay
// path at once (its CONNECTION_CLOSE leaves before the relay client stops),
// rather than leaving it to the idle timeout.
func TestCloseReachesRelayedPeer(t *testing.T) {
	r := startRelay(t)
	srv := bind(t, Options{RelayURL: r.URL, ALPNs: []string{testALPN}})
	ctx := testCtx(t, 10*time.Second)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	serveEcho(srv)
	cli := bind(t, Options{})
	c, err := cli.Dial(ctx, identity.EndpointAddr{ID: srv.ID(), Relays: []string{r.URL}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.OpenStream(ctx)
	echoOnce(t, s, "x")
	srv.Close()
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the peer did not learn of the close")
	}
	var ae *quic.ApplicationError
	if !errors.As(c.Err(), &ae) || !ae.Remote {
		t.Fatalf("conn error %v", c.Err())
	}
}
