package endpoint

import (
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic"
)

// TestCloseReachesRelayedPeer: closing an endpoint tells a peer on a relay
// path at once (its CONNECTION_CLOSE leaves before the relay client stops),
// rather than leaving it to the idle timeout.
func TestCloseReachesRelayedPeer(t *testing.T) {
	r := startRelay(t)
	ctx := testCtx(t, 10*time.Second)
	srv := relayEchoServer(t, ctx, r.URL, Options{})
	cli := bind(t, Options{})
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
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
