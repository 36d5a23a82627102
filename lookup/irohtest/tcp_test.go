package irohtest

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/lookup"
)

// TestIrohSpokeLargeRecordSetOverTCP: iroh queries without EDNS, so a
// record set over 512 bytes comes back truncated over UDP; iroh must then
// get it from our server over TCP and learn every published address.
func TestIrohSpokeLargeRecordSetOverTCP(t *testing.T) {
	interop.RequireNetns(t)
	relayURL := startRelay(t)
	ls, _, dns := startLookupServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	hubEP := startHub(t, ctx, endpoint.Options{SecretKey: key, RelayURL: relayURL})

	// The hub's real address plus TEST-NET-1 ones, which have no route in
	// the namespace.
	info := lookup.EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{relayURL}, Addrs: []netip.AddrPort{hubEP.LocalAddr()}}}
	for i := range 18 {
		info.Addrs = append(info.Addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), 4433))
	}
	p, err := lookup.SignEndpointInfo(key, info, lookup.Now(), lookup.DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.Store().Put(p); err != nil {
		t.Fatal(err)
	}

	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: key.Public().String(), Preset: "n0", Count: 3, Name: "tcp",
		Timeout: 20 * time.Second, ExtraEnv: n0Env,
	})
	t.Logf("DNS answers over UDP:\n%s%d TCP clients", dns, dns.tcpConns.Load())
	if err != nil {
		t.Fatalf("iroh spoke: %v\n%s", err, res.Stderr)
	}
	if res.Echoes != 3 {
		t.Fatalf("spoke result %+v", res)
	}
	want := lookup.DNSName(key.Public(), n0Origin)
	if got := dns.find(want, lookup.TypeTXT); got == nil || !got.truncated {
		t.Fatalf("UDP answer for TXT %s: %+v, want truncated", want, got)
	}
	if dns.tcpConns.Load() == 0 {
		t.Fatal("iroh never asked over TCP")
	}
	ri := res.RemoteAddr
	if ri == nil || ri.RelayURL != relayURL+"/" {
		t.Fatalf("iroh's remote info for the hub is %+v, want relay %s/", ri, relayURL)
	}
	for _, a := range info.Addrs {
		if !slices.Contains(ri.Addrs, a.String()) {
			t.Fatalf("iroh's remote info lacks published %s: %v", a, ri.Addrs)
		}
	}
}
