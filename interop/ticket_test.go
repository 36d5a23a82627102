package interop_test

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
)

func mustAddrs(t *testing.T, ss ...string) []netip.AddrPort {
	t.Helper()
	out := make([]netip.AddrPort, 0, len(ss))
	for _, s := range ss {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ap)
	}
	return out
}

func newID(t *testing.T) identity.EndpointID {
	t.Helper()
	sk, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return sk.Public()
}

// checkSame fails unless Go's decoding of ticket matches iroh's.
func checkSame(t *testing.T, ticket string, got identity.EndpointAddr, iroh interop.TicketInfo) {
	t.Helper()
	if got.ID.String() != iroh.EndpointID {
		t.Errorf("%s: id Go %s, iroh %s", ticket, got.ID, iroh.EndpointID)
	}
	if !slices.Equal(got.Relays, iroh.RelayURLs) && !(len(got.Relays) == 0 && len(iroh.RelayURLs) == 0) {
		t.Errorf("%s: relays Go %q, iroh %q", ticket, got.Relays, iroh.RelayURLs)
	}
	if !slices.Equal(got.Addrs, iroh.Addrs) {
		t.Errorf("%s: addrs Go %v, iroh %v", ticket, got.Addrs, iroh.Addrs)
	}
	if len(got.Custom) != 0 {
		t.Errorf("%s: Go found custom addresses %v", ticket, got.Custom)
	}
}

func TestTicketsFromIrohDecodeInGo(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	tool := interop.StartIDTool(t)
	hub := interop.StartHub(t, interop.HubOptions{})
	id := newID(t).String()

	type enc struct {
		relay string
		addrs []string
	}
	made := map[string]string{"live hub (v4+v6)": hub.Ticket}
	for name, e := range map[string]enc{
		"none":             {},
		"relay only":       {relay: "https://relay.example.com"},
		"relay no slash":   {relay: "http://127.0.0.1:3340"},
		"relay normalised": {relay: "HTTPS://Relay.Example.COM:443/a/../b"},
		"v4":               {addrs: []string{"127.0.0.1:7777"}},
		"v6":               {addrs: []string{"[::1]:5"}},
		"relay v4 v6":      {relay: "http://127.0.0.1:3340/", addrs: []string{"[2001:db8::1]:443", "10.0.0.1:1", "127.0.0.1:65535"}},
		"port 0, mapped":   {addrs: []string{"0.0.0.0:0", "[::ffff:192.0.2.1]:9", "[fe80::1]:7"}},
		"duplicates":       {addrs: []string{"127.0.0.1:1", "127.0.0.1:1"}},
	} {
		tk, err := tool.EncodeTicket(id, e.relay, mustAddrs(t, e.addrs...))
		if err != nil {
			t.Fatalf("%s: iroh encode: %v", name, err)
		}
		made[name] = tk
	}
	for name, tk := range made {
		t.Run(name, func(t *testing.T) {
			iroh, err := tool.DecodeTicket(tk)
			if err != nil {
				t.Fatalf("iroh decode: %v", err)
			}
			got, err := identity.ParseTicket(tk)
			if err != nil {
				t.Fatalf("Go ParseTicket(%s): %v", tk, err)
			}
			checkSame(t, tk, got, iroh)
			if s := got.String(); s != tk {
				t.Errorf("Go re-encodes iroh's ticket differently:\n Go   %s\n iroh %s", s, tk)
			}
		})
	}
}

func TestTicketsFromGoDecodeInIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	tool := interop.StartIDTool(t)
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: failures reproduce
	relays := []string{"", "https://relay.example.com./", "http://127.0.0.1:3340/", "https://[2001:db8::2]:8443/relay/"}
	tickets := []identity.EndpointAddr{
		{ID: newID(t)},
		{ID: newID(t), Relays: []string{"https://relay.example.com/"}},
		{ID: newID(t), Addrs: mustAddrs(t, "[::1]:2", "127.0.0.1:1", "[::1]:1", "10.0.0.1:9")},
	}
	for range 30 {
		tk := identity.EndpointAddr{ID: newID(t)}
		if r := relays[rng.IntN(len(relays))]; r != "" {
			tk.Relays = []string{r}
		}
		for range rng.IntN(4) {
			var a4 [4]byte
			for i := range a4 {
				a4[i] = byte(rng.IntN(256))
			}
			tk.Addrs = append(tk.Addrs, netip.AddrPortFrom(netip.AddrFrom4(a4), uint16(rng.IntN(65536))))
		}
		for range rng.IntN(3) {
			var a6 [16]byte
			for i := range a6 {
				a6[i] = byte(rng.IntN(256))
			}
			tk.Addrs = append(tk.Addrs, netip.AddrPortFrom(netip.AddrFrom16(a6), uint16(rng.IntN(65536))))
		}
		tickets = append(tickets, tk)
	}
	for i, tk := range tickets {
		s := tk.String()
		iroh, err := tool.DecodeTicket(s)
		if err != nil {
			t.Errorf("ticket %d %s: iroh rejects Go's ticket: %v", i, s, err)
			continue
		}
		back, err := identity.ParseTicket(s)
		if err != nil {
			t.Fatalf("ticket %d: Go cannot parse its own ticket %s: %v", i, s, err)
		}
		checkSame(t, s, back, iroh)
		if iroh.Reencoded != s {
			t.Errorf("ticket %d: iroh re-encodes Go's ticket differently:\n Go   %s\n iroh %s", i, s, iroh.Reencoded)
		}
		relay := ""
		if len(tk.Relays) > 0 {
			relay = tk.Relays[0]
		}
		fromIroh, err := tool.EncodeTicket(tk.ID.String(), relay, tk.Addrs)
		if err != nil {
			t.Fatalf("ticket %d: iroh encode: %v", i, err)
		}
		if fromIroh != s {
			t.Errorf("ticket %d: same fields, different tickets:\n Go   %s\n iroh %s", i, s, fromIroh)
		}
	}
}

// Malformed and odd tickets: Go must accept exactly what iroh accepts.
func TestTicketParseVerdictsAgreeWithIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	tool := interop.StartIDTool(t)
	good, err := tool.EncodeTicket(newID(t).String(), "https://relay.example.com", mustAddrs(t, "127.0.0.1:7777"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(good, "endpoint")
	cases := map[string]string{
		"empty":            "",
		"prefix only":      "endpoint",
		"upper prefix":     "ENDPOINT" + body,
		"other prefix":     "blob" + body,
		"truncated":        good[:len(good)-6],
		"padding":          good + "=",
		"bad symbol":       "endpoint" + body[:10] + "1" + body[11:],
		"upper body":       "endpoint" + strings.ToUpper(body),
		"trailing garbage": good + "aaaaaaaa",
	}
	for name, s := range cases {
		_, goErr := identity.ParseTicket(s)
		_, irohErr := tool.DecodeTicket(s)
		if _, broke := irohErr.(*interop.RejectedError); irohErr != nil && !broke {
			t.Fatalf("%s: idtool broke: %v", name, irohErr)
		}
		t.Logf("%-16s Go ok=%v iroh ok=%v", name, goErr == nil, irohErr == nil)
		if (goErr == nil) != (irohErr == nil) {
			t.Errorf("%s %q: Go err %v, iroh err %v", name, s, goErr, irohErr)
		}
	}
}
