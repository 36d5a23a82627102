package endpoint

import (
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/wire"
)

// TestRelayRestartWithRealHub: a spoke reaches the real iroh hub through our
// relay alone; the relay goes away for 5 s and comes back on the same port;
// both relay clients (ours and iroh's) reconnect by themselves, and the same
// QUIC connection and stream carry on.
func TestRelayRestartWithRealHub(t *testing.T) {
	interop.RequireNetns(t)
	if testing.Short() {
		t.Skip("takes over 5 s")
	}
	ctx := testCtx(t, 90*time.Second)
	r, _, c := dialRealHubViaRelay(t, ctx)
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := wire.NewWriter(s, 0)
	rd := wire.NewReader(s, 0)
	echo := func(id string, within time.Duration) {
		t.Helper()
		s.SetDeadline(time.Now().Add(within))
		if err := w.WriteEnvelope(wire.Envelope{Type: "r", ID: id, Payload: []byte(`"x"`)}); err != nil {
			t.Fatalf("write %s: %v", id, err)
		}
		got, _, err := rd.ReadEnvelope()
		if err != nil || got.Type != "r.echo" || got.ID != id {
			t.Fatalf("echo of %s: %+v %v", id, got, err)
		}
	}
	echo("before", 10*time.Second)
	r.stop()
	time.Sleep(5 * time.Second) // the outage itself (not a wait): clients back off meanwhile
	r.start()
	// iroh's relay client backs off up to 16 s between attempts, so give
	// it time; the QUIC idle timeout (30 s) bounds how long the connection
	// may wait.
	start := time.Now()
	echo("after", 28*time.Second)
	t.Logf("echo resumed %v after the relay came back", time.Since(start).Round(10*time.Millisecond))
	if c.Err() != nil || !c.RemoteAddr().IsRelay() {
		t.Fatalf("connection: err %v path %v", c.Err(), c.RemoteAddr())
	}
}
