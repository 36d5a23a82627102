package endpoint

import (
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// TestRelayReconnectRechecksPaths: when the relay restarts, both ends'
// relay clients reconnect, and each end challenges its relay path again
// (the peer's answer and our ACK of it make the peer resend at once what
// it sent us through the relay while the link was down); the connection
// and its stream go on.
func TestRelayReconnectRechecksPaths(t *testing.T) {
	r := startRelay(t)
	ctx := testCtx(t, 20*time.Second)
	// back receives when a relay connection is up again after it was lost;
	// the recheck runs before the status is reported.
	back := func() (Options, chan struct{}) {
		ch := make(chan struct{}, 16)
		lost := false
		return Options{OnRelayStatus: func(_ string, st relay.Status) {
			switch st.State {
			case relay.StateReconnecting:
				lost = true
			case relay.StateConnected:
				if lost {
					ch <- struct{}{}
				}
			}
		}}, ch
	}
	srvOpts, srvBack := back()
	srv := relayEchoServer(t, ctx, r.URL, srvOpts)
	cliOpts, cliBack := back()
	cli := bind(t, cliOpts)
	c := dialRelayed(t, ctx, cli, srv.ID(), r.URL)
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s, "before the restart")
	waitPath(t, c, 5*time.Second, "a usable relay path", func(ps []quic.PathInfo) bool {
		for _, p := range ps {
			if usablePath(p) && p.Addr.IsRelay() {
				return true
			}
		}
		return false
	})

	r.stop()
	r.start()
	for _, side := range []struct {
		name string
		e    *Endpoint
		back chan struct{}
	}{{"client", cli, cliBack}, {"server", srv, srvBack}} {
		select {
		case <-side.back:
		case <-ctx.Done():
			t.Fatalf("%s: the relay connection did not come back", side.name)
		}
		if n := side.e.Metrics().RelayRechecks.Load(); n != 1 {
			t.Fatalf("%s: %d relay paths rechecked, want 1", side.name, n)
		}
	}
	echoOnce(t, s, "after the restart")
}
