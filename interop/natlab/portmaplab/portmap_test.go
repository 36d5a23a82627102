//go:build linux

package portmaplab_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab/portmaplab"
)

const (
	localPort = 40000
	// shortLease is the lifetime the renewal tests run with: renewals
	// come every second.
	shortLease = 2 * time.Second
	silence    = 300 * time.Millisecond
)

// exercise checks one mapping end to end: the event names the protocol and
// miniupnpd's external address, the lease file lists it for the LAN host,
// a datagram from the public host reaches the LAN socket, renewals (when
// renew) keep it past its first lifetime, and Close deletes it.
func exercise(t *testing.T, lab *portmaplab.Lab, c *child, proto string, renew bool) {
	ev := c.mapped()
	ext, err := netip.ParseAddrPort(ev.External)
	if err != nil || ev.Protocol != proto || ev.Version != 1 || ext.Addr() != portmaplab.RouterWAN {
		t.Fatalf("event %+v, want a %s mapping on %v", ev, proto, portmaplab.RouterWAN)
	}
	first, ok := leaseFor(t, lab, ext)
	if !ok || first.Internal != netip.AddrPortFrom(portmaplab.LANHost, localPort) {
		t.Fatalf("miniupnpd leases %+v, want %v -> %v:%d", must(lab.Leases()), ext, portmaplab.LANHost, localPort)
	}
	pub, err := lab.Pub.ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if !c.reaches(pub, ext, "hello", 2*time.Second) {
		t.Fatalf("a datagram to %v did not reach the LAN socket", ext)
	}
	if renew {
		deadline := time.Now().Add(4 * shortLease)
		for c.stats().Renewals < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("no two renewals within %v: %+v", 4*shortLease, c.stats())
			}
			time.Sleep(100 * time.Millisecond)
		}
		now, ok := leaseFor(t, lab, ext)
		if !ok || !now.Expires.After(first.Expires) {
			t.Fatalf("lease after renewals %+v (first %+v)", now, first)
		}
		if !c.reaches(pub, ext, "after renewal", 2*time.Second) {
			t.Fatal("the renewed mapping does not forward")
		}
	}
	c.close()
	if _, ok := leaseFor(t, lab, ext); ok {
		t.Fatalf("the lease survived Close: %+v", must(lab.Leases()))
	}
	if c.reaches(pub, ext, "after close", silence) {
		t.Fatal("the deleted mapping still forwards")
	}
	if ev := c.await(func(m childMsg) bool { return m.Kind == "event" && m.External == "" }); ev.Version != 2 {
		t.Fatalf("last event %+v", ev)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}

func TestPCPAlone(t *testing.T) {
	t.Parallel()
	// miniupnpd caps PCP lifetimes at 2 s: the mapper asks for iroh's 1 h
	// and renews at half of what it is granted.
	lab := portmaplab.New(t, portmaplab.Config{NATPMP: true, DropNATPMP: true, MaxLifetime: int(shortLease / time.Second)})
	exercise(t, lab, startChild(t, lab, childConfig{Port: localPort}), "pcp", true)
}

func TestNATPMPAlone(t *testing.T) {
	t.Parallel()
	lab := portmaplab.New(t, portmaplab.Config{NATPMP: true, DropPCP: true})
	exercise(t, lab, startChild(t, lab, childConfig{Port: localPort, Lifetime: shortLease}), "nat-pmp", true)
}

func TestUPnPAlone(t *testing.T) {
	t.Parallel()
	lab := portmaplab.New(t, portmaplab.Config{UPnP: true})
	exercise(t, lab, startChild(t, lab, childConfig{Port: localPort, Lifetime: shortLease}), "upnp", true)
}

func TestUPnPIGDv1(t *testing.T) {
	t.Parallel()
	lab := portmaplab.New(t, portmaplab.Config{UPnP: true, IGDv1: true})
	exercise(t, lab, startChild(t, lab, childConfig{Port: localPort}), "upnp", false)
}

// TestAllProtocolsPrefersPCP: with everything on, iroh's order picks PCP.
func TestAllProtocolsPrefersPCP(t *testing.T) {
	t.Parallel()
	lab := portmaplab.New(t, portmaplab.Config{NATPMP: true, UPnP: true})
	exercise(t, lab, startChild(t, lab, childConfig{Port: localPort}), "pcp", false)
}
