package quic

import (
	"net/netip"
	"slices"
	"testing"
)

// TestNatAddressesAnnouncedAtHandshake: the server's candidates reach the
// client with the server's first flight: the client knows them when its
// handshake completes.
func TestNatAddressesAnnouncedAtHandshake(t *testing.T) {
	sep := dualStackEndpoint(t, &Config{ALPNs: []string{testALPN}, Multipath: true, NatTraversal: true})
	cep := dualStackEndpoint(t, &Config{Multipath: true, NatTraversal: true})
	port := addrOf(t, sep.LocalAddr()).UDP.Port()
	v4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	cands := []netip.AddrPort{
		netip.AddrPortFrom(netip.IPv6Loopback(), port),
		netip.MustParseAddrPort("198.18.0.7:4433"),
	}
	sep.SetNatAddresses(cands)
	ctx := testCtx(t)
	client, err := cep.Dial(ctx, UDPAddr(v4), sep.ID(), testALPN)
	if err != nil {
		t.Fatal(err)
	}
	// They came with the server's first flight (0.5-RTT), so Dial's
	// return finds them.
	got := client.NatRemoteAddresses()
	if len(got) != len(cands) {
		t.Fatalf("client knew %v when its handshake completed, want %v", got, cands)
	}
	for _, ap := range cands {
		if !slices.Contains(got, ap) {
			t.Fatalf("client learnt %v, want %v", got, cands)
		}
	}
	server, err := sep.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := server.NatLocalAddresses(); !slices.Equal(got, cands) {
		t.Fatalf("server announced %v, want %v", got, cands)
	}
}
