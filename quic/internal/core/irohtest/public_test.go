package irohtest

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	envwire "github.com/alkdev/irohspoke/wire"
)

// TestPublicMultipathAgainstIroh does what TestCoreMultipathAgainstIroh
// does through the public quic API: a dual-stack endpoint dials the hub
// over IPv4, opens a path to its IPv6 address, moves the data there and
// closes the IPv4 path while envelopes keep echoing.
func TestPublicMultipathAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	v4, _ := hub.AddrV4()
	v6, ok := hub.AddrV6()
	if !ok {
		t.Fatalf("hub addresses %v", hub.Addrs)
	}
	peer, err := identity.ParseEndpointID(hub.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := quic.ListenUDP("[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := quic.NewEndpoint(tr, &quic.Config{Multipath: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := ep.Dial(ctx, quic.UDPAddr(v4), peer, "alkpubsub/1")
	if err != nil {
		t.Fatal(err)
	}
	connect := time.Since(start)
	if !conn.Multipath() {
		t.Fatal("multipath not negotiated")
	}
	s, err := conn.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, w := envwire.NewReader(s, 0), envwire.NewWriter(s, 0)
	n := 0
	echo := func(count int) time.Duration {
		t.Helper()
		t0 := time.Now()
		for i := 0; i < count; i++ {
			id := fmt.Sprint(n)
			n++
			if err := w.WriteEnvelope(envwire.Envelope{Type: "mp", ID: id, Payload: []byte(`{"n":1}`)}); err != nil {
				t.Fatal(err)
			}
			env, _, err := r.ReadEnvelope()
			if err != nil || env.Type != "mp.echo" || env.ID != id {
				t.Fatalf("echo %s: %v %+v", id, err, env)
			}
		}
		return time.Since(t0) / time.Duration(count)
	}
	rtt4 := echo(20)
	t0 := time.Now()
	pid, err := conn.OpenPath(ctx, quic.UDPAddr(v6))
	if err != nil {
		t.Fatal(err)
	}
	validated := time.Since(t0)
	if err := conn.SetPathStatus(0, false); err != nil {
		t.Fatal(err)
	}
	rtt6 := echo(50)
	if conn.RemoteAddr() != quic.UDPAddr(netip.AddrPortFrom(v6.Addr(), v6.Port())) {
		t.Fatalf("data path %v", conn.RemoteAddr())
	}
	if err := conn.ClosePath(0, quic.AbandonPathApplication); err != nil {
		t.Fatal(err)
	}
	echo(50)
	for len(conn.Paths()) != 1 {
		if ctx.Err() != nil {
			t.Fatalf("paths %+v", conn.Paths())
		}
		time.Sleep(10 * time.Millisecond)
	}
	rttAfter := echo(50)
	st := conn.Stats()
	t.Logf("connect %v; path %d validated in %v; per-envelope round trip: IPv4 %v, IPv6 %v, after closing IPv4 %v; paths %+v; sent %d received %d lost %d",
		connect, pid, validated, rtt4, rtt6, rttAfter, conn.Paths(), st.PacketsSent, st.PacketsReceived, st.PacketsLost)
	conn.Close(0, "done")
}
