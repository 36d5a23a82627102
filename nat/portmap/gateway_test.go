package portmap

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/internal/fakegw"
)

// testWait replaces iroh's answer timeouts against the loopback fakes, so
// that cases which end in a timeout are quick.
const testWait = 150 * time.Millisecond

// gwEnv points real protocol clients at a loopback fake gateway.
func gwEnv(gw *fakegw.Server) env {
	e := env{route: func(local netip.AddrPort) (route, error) {
		return route{gateway: gw.Addr, local: gw.Addr, port: local.Port()}, nil
	}}
	e.clients[PCP] = pcpClient{port: gw.PMPPort, wait: testWait}
	e.clients[NATPMP] = natpmpClient{port: gw.PMPPort, wait: testWait}
	e.clients[UPnP] = &upnpClient{wait: 2 * testWait, targets: func(netip.Addr) []netip.AddrPort { return []netip.AddrPort{gw.SSDP} }}
	return e
}

func testRoute(gw *fakegw.Server) route { return route{gateway: gw.Addr, local: gw.Addr, port: 40000} }

func waitEvent(t *testing.T, m *Mapper) Event {
	t.Helper()
	select {
	case e := <-m.Events():
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no event; stats %+v", m.Stats())
		return Event{}
	}
}

// TestEachProtocolAgainstFakeGateway maps, renews and deletes through each
// protocol's real client over loopback.
func TestEachProtocolAgainstFakeGateway(t *testing.T) {
	cases := map[string]struct {
		cfg  fakegw.Config
		want Protocol
	}{
		"pcp":     {fakegw.Config{PCP: true}, PCP},
		"natpmp":  {fakegw.Config{NATPMP: true}, NATPMP},
		"upnp v2": {fakegw.Config{UPnP: true}, UPnP},
		"upnp v1": {fakegw.Config{UPnP: true, IGDv1: true}, UPnP},
		"all":     {fakegw.Config{PCP: true, NATPMP: true, UPnP: true}, PCP},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gw := fakegw.New(t, c.cfg)
			m := start(testLocal, Options{Lifetime: time.Hour}, gwEnv(gw))
			e := waitEvent(t, m)
			want := netip.MustParseAddrPort("5.5.5.1:40000")
			if e.Protocol != c.want || e.External != want || e.Version != 1 {
				t.Fatalf("event %+v", e)
			}
			leases := gw.Leases()
			l, ok := leases[fakegw.Key{Proto: "UDP", ExternalPort: 40000}]
			if !ok || len(leases) != 1 || l.Via != c.want.String() && !(c.want == NATPMP && l.Via == "natpmp") || l.InternalPort != 40000 || l.Lifetime != 3600 {
				t.Fatalf("gateway holds %+v", leases)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if leases := gw.Leases(); len(leases) != 0 {
				t.Fatalf("after Close the gateway still holds %+v", leases)
			}
		})
	}
}

// TestRenewalKeepsTheMapping renews through the real clients: the same
// PCP nonce, the same external port.
func TestRenewalKeepsTheMapping(t *testing.T) {
	for _, p := range []Protocol{PCP, NATPMP, UPnP} {
		gw := fakegw.New(t, fakegw.Config{PCP: p == PCP, NATPMP: p == NATPMP, UPnP: p == UPnP, Lifetime: 60})
		e := gwEnv(gw)
		r := testRoute(gw)
		ctx := context.Background()
		first, err := e.clients[p].mapPort(ctx, request{route: r, lifetime: time.Hour})
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if p != UPnP && first.lifetime != time.Minute {
			t.Fatalf("%v: granted %v, want the gateway's 60 s", p, first.lifetime)
		}
		again, err := e.clients[p].mapPort(ctx, request{route: r, lifetime: time.Hour, prefer: first.external, prev: &first})
		if err != nil || again.external != first.external || again.nonce != first.nonce {
			t.Fatalf("%v: renewal %+v, %v (first %+v)", p, again, err, first)
		}
		if n := len(gw.Leases()); n != 1 {
			t.Fatalf("%v: %d leases after renewal", p, n)
		}
		if err := e.clients[p].release(ctx, again); err != nil || len(gw.Leases()) != 0 {
			t.Fatalf("%v: release: %v, leases %v", p, err, gw.Leases())
		}
	}
}

// wrongSource relays requests to the gateway but sends the answers back
// from another port. It returns the relay's port.
func wrongSource(t *testing.T, gw *fakegw.Server) uint16 {
	in, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); out.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, client, err := in.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = out.WriteToUDPAddrPort(buf[:n], netip.AddrPortFrom(gw.Addr, gw.PMPPort))
			_ = out.SetReadDeadline(time.Now().Add(time.Second))
			if m, _, err := out.ReadFromUDPAddrPort(buf); err == nil {
				_, _ = out.WriteToUDPAddrPort(buf[:m], client)
			}
		}
	}()
	return uint16(in.LocalAddr().(*net.UDPAddr).Port)
}
