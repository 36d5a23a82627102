package endpoint

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic"
)

func relayPath(id quic.PathID, rtt time.Duration) quic.PathInfo {
	return quic.PathInfo{ID: id, Validated: true, RTT: rtt,
		Addr: quic.Addr{Relay: quic.RelayAddr{URL: "http://relay.test/"}}}
}

func directPath(id quic.PathID, ap string, rtt time.Duration) quic.PathInfo {
	return quic.PathInfo{ID: id, Validated: true, RTT: rtt, Addr: quic.UDPAddr(netip.MustParseAddrPort(ap))}
}

func TestSelectPath(t *testing.T) {
	ms := time.Millisecond
	v4 := func(id quic.PathID, rtt time.Duration) quic.PathInfo { return directPath(id, "192.0.2.1:1", rtt) }
	v6 := func(id quic.PathID, rtt time.Duration) quic.PathInfo { return directPath(id, "[2001:db8::1]:1", rtt) }
	unvalidated := v4(1, ms)
	unvalidated.Validated = false
	abandoned := v4(1, ms)
	abandoned.Abandoned = true
	for _, tc := range []struct {
		name    string
		paths   []quic.PathInfo
		cur     quic.PathID
		haveCur bool
		want    quic.PathID
		ok      bool
	}{
		{"none", nil, 0, false, 0, false},
		{"only relay", []quic.PathInfo{relayPath(0, 20*ms)}, 0, false, 0, true},
		{"direct beats faster relay", []quic.PathInfo{relayPath(0, 5*ms), v4(1, 300*ms)}, 0, true, 1, true},
		{"unvalidated direct ignored", []quic.PathInfo{relayPath(0, 5*ms), unvalidated}, 0, true, 0, true},
		{"abandoned direct ignored", []quic.PathInfo{relayPath(0, 5*ms), abandoned}, 0, true, 0, true},
		{"lowest rtt first pick", []quic.PathInfo{v4(1, 20*ms), v4(2, 10*ms)}, 0, false, 2, true},
		{"hysteresis keeps current", []quic.PathInfo{v4(1, 14*ms), v4(2, 10*ms)}, 1, true, 1, true},
		{"clearly faster switches", []quic.PathInfo{v4(1, 16*ms), v4(2, 10*ms)}, 1, true, 2, true},
		{"ipv6 bias wins ties", []quic.PathInfo{v4(1, 10*ms), v6(2, 12*ms)}, 0, false, 2, true},
		{"ipv6 bias plus hysteresis", []quic.PathInfo{v4(1, 10*ms), v6(2, 9*ms)}, 1, true, 1, true},
		{"ipv6 clearly faster", []quic.PathInfo{v4(1, 10*ms), v6(2, 1*ms)}, 1, true, 2, true},
		{"current gone", []quic.PathInfo{relayPath(0, 5*ms), v4(2, 10*ms)}, 1, true, 2, true},
		{"back to relay when direct dies", []quic.PathInfo{relayPath(0, 50*ms), abandoned}, 1, true, 0, true},
		{"relay tie on id", []quic.PathInfo{relayPath(3, 5*ms), relayPath(2, 5*ms)}, 0, false, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := selectPath(tc.paths, tc.cur, tc.haveCur)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("selectPath = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestRedundantDirect(t *testing.T) {
	ms := time.Millisecond
	pending := directPath(4, "192.0.2.9:1", 0)
	pending.Validated = false
	paths := []quic.PathInfo{
		relayPath(0, 30*ms),
		directPath(1, "192.0.2.1:1", 10*ms),
		directPath(2, "192.0.2.2:1", 12*ms),
		relayPath(3, 30*ms),
		pending,
	}
	if got := redundantDirect(paths, 1); !slices.Equal(got, []quic.PathID{2}) {
		t.Fatalf("redundant = %v, want [2] (relays and unvalidated paths stay)", got)
	}
	if got := redundantDirect(paths, 0); !slices.Equal(got, []quic.PathID{1, 2}) {
		t.Fatalf("redundant = %v, want [1 2]", got)
	}
	if !hasGoodDirect(paths) || hasGoodDirect(paths[:1]) {
		t.Fatal("hasGoodDirect")
	}
}

func TestAllOpen(t *testing.T) {
	a := netip.MustParseAddrPort("192.0.2.1:1")
	b := netip.MustParseAddrPort("192.0.2.2:2")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
	pending := directPath(2, "192.0.2.2:2", 0)
	pending.Validated = false
	for _, tc := range []struct {
		name   string
		remote []netip.AddrPort
		paths  []quic.PathInfo
		want   bool
	}{
		{"direct to each", []netip.AddrPort{a, b}, []quic.PathInfo{directPath(1, "192.0.2.1:1", 0), directPath(2, "192.0.2.2:2", 0)}, true},
		{"one without a path", []netip.AddrPort{a, b}, []quic.PathInfo{relayPath(0, 0), directPath(1, "192.0.2.1:1", 0)}, false},
		{"not validated yet", []netip.AddrPort{b}, []quic.PathInfo{pending}, false},
		{"relay only", []netip.AddrPort{a}, []quic.PathInfo{relayPath(0, 0)}, false},
		{"IPv4-mapped candidate", []netip.AddrPort{mapped}, []quic.PathInfo{directPath(1, "192.0.2.1:1", 0)}, true},
	} {
		if got := allOpen(tc.remote, tc.paths); got != tc.want {
			t.Errorf("%s: allOpen = %v, want %v", tc.name, got, tc.want)
		}
	}
}
