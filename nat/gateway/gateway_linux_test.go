package gateway

import (
	"net/netip"
	"os"
	"reflect"
	"testing"
)

// TestNetlinkMatchesProc reads this machine's routing table both ways (no
// packet is sent): the IPv4 default routes from netlink are the ones
// /proc/net/route lists.
func TestNetlinkMatchesProc(t *testing.T) {
	routes, err := DefaultRoutes()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	proc, err := ParseProcRoute(text)
	if err != nil {
		t.Fatal(err)
	}
	var v4 []Route
	for _, r := range routes {
		if r.Gateway.Is4() {
			v4 = append(v4, r)
		}
	}
	sortRoutes(proc)
	if len(v4) != len(proc) {
		t.Fatalf("netlink %+v, /proc %+v", v4, proc)
	}
	for i := range proc {
		if v4[i].Gateway != proc[i].Gateway || v4[i].Iface != proc[i].Iface || v4[i].Metric != proc[i].Metric {
			t.Errorf("netlink %+v, /proc %+v", v4[i], proc[i])
		}
	}
}

// TestNameAndSort: names come from the map, an index it lacks from the
// system (index 1 is the loopback in every namespace), a route without
// an index keeps no name.
func TestNameAndSort(t *testing.T) {
	gw := netip.MustParseAddr("10.0.0.1")
	routes := []Route{{Gateway: gw, Index: 7, Metric: 100}, {Gateway: gw, Metric: 20}, {Gateway: gw, Index: 1, Metric: 5}}
	NameAndSort(routes, map[int]string{7: "wan"})
	want := []Route{{Gateway: gw, Index: 1, Iface: "lo", Metric: 5}, {Gateway: gw, Metric: 20}, {Gateway: gw, Index: 7, Iface: "wan", Metric: 100}}
	if !reflect.DeepEqual(routes, want) {
		t.Fatalf("got %+v", routes)
	}
}
