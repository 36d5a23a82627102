//go:build linux

package natlab_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/quic/qadtest"
)

// TestQADBehindNAT: a QAD server on the public segment tells a client
// behind the endpoint-independent NAT its public mapping (the NAT's
// address, the socket's port kept), and a client behind the random-port
// NAT some other public port.
func TestQADBehindNAT(t *testing.T) {
	lab := natlab.New(t, natlab.Spec{
		NATs: []natlab.NATSpec{
			{Name: "eim", Kind: natlab.EndpointIndependent},
			{Name: "sym", Kind: natlab.RandomPort},
		},
		Public: []string{"relay"},
	})
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	chain, key, err := ca.Issue("relay.test")
	if err != nil {
		t.Fatal(err)
	}
	relay := lab.MustHost(t, "relay")
	sc, err := relay.ListenUDP(quic.DefaultQADPort)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := quic.ListenAddressDiscovery(quic.NewUDPTransport(sc), quic.AddressDiscoveryServer{Certificate: chain, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	qadAddr := relay.AddrPort(quic.DefaultQADPort)

	learn := func(t *testing.T, nat *natlab.NAT) netip.AddrPort {
		t.Helper()
		c, err := nat.Host.ListenUDP(privatePort)
		if err != nil {
			t.Fatal(err)
		}
		ep, err := quic.NewEndpoint(quic.NewUDPTransport(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ep.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, conn, err := ep.DialAddressDiscovery(ctx, qadAddr, "relay.test", ca.Roots)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close(quic.QADCloseCode, quic.QADCloseReason)
		return got
	}
	t.Run("endpoint-independent", func(t *testing.T) {
		nat := lab.NAT("eim")
		want := netip.AddrPortFrom(nat.PublicAddr(), privatePort)
		if got := learn(t, nat); got != want {
			t.Fatalf("learned %v, want the public mapping %v", got, want)
		}
	})
	t.Run("random-port", func(t *testing.T) {
		nat := lab.NAT("sym")
		got := learn(t, nat)
		if got.Addr() != nat.PublicAddr() {
			t.Fatalf("learned %v, want an address of %v", got, nat.PublicAddr())
		}
		t.Logf("random-port NAT mapped %v:%d to %v", nat.Host.Addr(), privatePort, got)
	})
}
