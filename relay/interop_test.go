package relay

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
)

// TestMain runs the package inside a loopback-only network namespace when
// real iroh can be used (root and node present), so that the interop test
// below can start iroh safely. Elsewhere, and when fuzzing, the tests run
// directly and the interop test skips.
func TestMain(m *testing.M) {
	if os.Getenv(envHeapServer) != "" {
		os.Exit(runHeapServer())
	}
	flag.Parse()
	fuzzing := flag.Lookup("test.fuzz") != nil && flag.Lookup("test.fuzz").Value.String() != ""
	_, nodeErr := exec.LookPath("node")
	if os.Getenv("IROHSPOKE_SKIP_INTEROP") == "" && !fuzzing && os.Geteuid() == 0 && nodeErr == nil {
		os.Exit(interop.InNetns(m))
	}
	os.Exit(m.Run())
}

// TestInteropIrohThroughGoRelay: two real iroh 1.0 endpoints take our relay
// as home relay and exchange envelopes with no direct address.
func TestInteropIrohThroughGoRelay(t *testing.T) {
	interop.RequireNetns(t)
	srv := startServer(t, ServerConfig{}, "127.0.0.1:0")
	hub := interop.StartHub(t, interop.HubOptions{RelayURL: srv.URL})
	if strings.TrimSuffix(hub.RelayURL, "/") != srv.URL {
		t.Fatalf("hub home relay %q, want %q", hub.RelayURL, srv.URL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: hub.EndpointID, RelayURL: srv.URL, // no direct address
		Count: 5, Size: 2000,
	})
	if err != nil {
		t.Fatalf("spoke: %v\n%s", err, res.Stderr)
	}
	if !res.OK || res.Echoes != 5 {
		t.Fatalf("spoke result %+v", res)
	}
	m := srv.Metrics()
	t.Logf("relay: accepts=%d forwarded=%d (%d bytes) dropped=%d pongs=%d",
		m.Accepts.Load(), m.SendPacketsSent.Load(), m.BytesSent.Load(), m.SendPacketsDropped.Load(), m.SentPong.Load())
	if m.Accepts.Load() < 2 || m.SendPacketsSent.Load() < 4 {
		t.Fatal("the relay carried no traffic between the endpoints")
	}
	if m.UnknownFrames.Load() != 0 {
		t.Fatalf("iroh sent %d frames our relay rejected", m.UnknownFrames.Load())
	}
	if err := hub.Stop(); err != nil {
		t.Fatal(err)
	}
}
