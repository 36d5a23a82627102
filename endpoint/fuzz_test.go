package endpoint

import (
	"net/netip"
	"testing"

	"github.com/alkdev/irohspoke/identity"
)

// FuzzTargetPaths feeds tickets, relay URLs and address lists from
// arbitrary input to the path selection of Dial: it must never panic, and
// what it returns must be dialable (unique direct addresses with a port, at
// most maxDirectDials, a normalised relay URL).
func FuzzTargetPaths(f *testing.F) {
	e := &Endpoint{}
	f.Add("", "http://127.0.0.1:3340", []byte{127, 0, 0, 1, 0x30, 0x39})
	f.Add("", "https://relay.example.org./x/../y?q#f", []byte{})
	f.Add("", "", []byte{10, 0, 0, 1, 0, 0, 10, 0, 0, 1, 0, 1, 10, 0, 0, 1, 0, 1})
	f.Add("endpointaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ws://[::1]:80", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add("", "gopher://x", []byte{255, 255, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, ticket, relayURL string, raw []byte) {
		tg := identity.EndpointAddr{Relays: []string{relayURL}}
		if tk, err := identity.ParseTicket(ticket); err == nil {
			tg = tk
		}
		for len(raw) >= 6 {
			ip := netip.AddrFrom4([4]byte(raw[:4]))
			tg.Addrs = append(tg.Addrs, netip.AddrPortFrom(ip, uint16(raw[4])<<8|uint16(raw[5])))
			raw = raw[6:]
		}
		direct, relayAddr, err := e.pathsFrom(tg, true)
		if err != nil {
			return
		}
		if len(direct) == 0 && !relayAddr.IsValid() {
			t.Fatal("no error and no path")
		}
		if len(direct) > maxDirectDials {
			t.Fatalf("%d direct dials", len(direct))
		}
		seen := map[netip.AddrPort]bool{}
		for _, a := range direct {
			if a.IsRelay() || a.UDP.Port() == 0 || seen[a.UDP] {
				t.Fatalf("bad direct address %v in %v", a, direct)
			}
			seen[a.UDP] = true
		}
		if relayAddr.IsValid() {
			again, err := identity.NormalizeRelayURL(relayAddr.Relay.URL)
			if err != nil || again != relayAddr.Relay.URL || relayAddr.Relay.Peer != tg.ID {
				t.Fatalf("relay path %v not normalised (%q, %v)", relayAddr, again, err)
			}
		}
	})
}
