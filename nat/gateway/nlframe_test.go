package gateway

import (
	"encoding/binary"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"testing"
)

// readRouteDump is a real RTM_GETROUTE dump (little-endian) of the
// namespace netmon's labSetup builds: three default routes in the main
// table, one in table 100, and the subnet and local routes.
func readRouteDump(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/rtnl/route.dump")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// defaultRouteMessages keeps the dump's default routes (its first three
// messages, 172 bytes, one of table 100, and the IPv6 one of 116 bytes at
// 3552) and its NLMSG_DONE: a small fuzz seed.
func defaultRouteMessages(dump []byte) []byte {
	return slices.Concat(dump[:172], dump[3552:3552+116], dump[len(dump)-20:])
}

func TestParseCapturedRouteDump(t *testing.T) {
	want := []Route{
		{Gateway: netip.MustParseAddr("fd01::fe"), Index: 3, Iface: "a0", Metric: 10},
		{Gateway: netip.MustParseAddr("10.2.0.2"), Index: 5, Iface: "b0", Metric: 50},
		{Gateway: netip.MustParseAddr("10.1.0.254"), Index: 3, Iface: "a0", Metric: 100},
	}
	dump := readRouteDump(t)
	for name, b := range map[string][]byte{"dump": dump, "seed": defaultRouteMessages(dump)} {
		routes, err := ParseRouteDump(b)
		if err != nil {
			t.Fatal(err)
		}
		NameAndSort(routes, map[int]string{3: "a0", 5: "b0"})
		if !reflect.DeepEqual(routes, want) {
			t.Errorf("%s: got %+v", name, routes)
		}
	}
}

// TestEachMessageHeader: the walk reports each message's header and
// stops at NLMSG_DONE.
func TestEachMessageHeader(t *testing.T) {
	b := nlRoute{family: afInet}.message(rtmNewRoute)
	binary.NativeEndian.PutUint16(b[6:8], 0x2) // NLM_F_MULTI
	binary.NativeEndian.PutUint32(b[8:12], 77) // sequence number
	var got []NetlinkMessage
	done, err := EachMessage(append(dump(b), b...), func(m NetlinkMessage) error {
		got = append(got, m)
		return nil
	})
	if err != nil || !done || len(got) != 1 || got[0].Type != rtmNewRoute || got[0].Flags != 2 || got[0].Seq != 77 || len(got[0].Body) != rtmsgLen {
		t.Fatalf("done %v, %v: %+v", done, err, got)
	}
	if done, err := EachMessage(b, func(NetlinkMessage) error { return nil }); err != nil || done {
		t.Fatalf("without NLMSG_DONE: done %v, %v", done, err)
	}
}
