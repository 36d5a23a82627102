package netmon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/alkdev/irohspoke/nat/gateway"
)

// The dumps in testdata/rtnl were captured in the namespace labSetup
// builds (see TestReadStateMatchesPortableInNamespace), little-endian.
func readDumps(t testing.TB) (link, addr, route []byte) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/rtnl/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return read("link.dump"), read("addr.dump"), read("route.dump")
}

// TestBuildStateFromCapturedDumps: the three real dumps make the state
// net.Interfaces showed in that namespace: the point-to-point address is
// the local one, c0 is down, the route in table 100 is left out and the
// route names come from the link dump.
func TestBuildStateFromCapturedDumps(t *testing.T) {
	l, a, r := readDumps(t)
	links, err := parseLinkDump(l)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := parseAddrDump(a)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := gateway.ParseRouteDump(r)
	if err != nil {
		t.Fatal(err)
	}
	got := buildState(links, addrs, routes)
	in := func(index int, up bool, prefixes ...string) Interface {
		i := Interface{Index: index, Up: up}
		for _, p := range prefixes {
			i.Addrs = append(i.Addrs, netip.MustParsePrefix(p))
		}
		return i
	}
	want := State{
		Interfaces: map[string]Interface{
			"lo":  in(1, true, "127.0.0.1/8", "::1/128"),
			"a1":  in(2, true, "10.1.0.1/24", "fd01::1/64", "fe80::dcb8:12ff:fe29:242c/64"),
			"a0":  in(3, true, "10.1.0.2/24", "10.1.0.3/24", "10.1.5.2/16", "fd01::2/64", "fd01::3/64", "fe80::e837:94ff:fed7:df37/64"),
			"b1":  in(4, true, "fe80::2475:7fff:fec3:7800/64"),
			"b0":  in(5, true, "10.2.0.1/32", "fd02::1/128", "fe80::fcb9:58ff:fecf:d983/64"),
			"c1":  in(6, false),
			"c0":  in(7, false, "10.3.0.1/24"),
			"br0": in(8, true, "192.168.77.1/24", "fd03::1/48", "fe80::434:c9ff:fe6f:1668/64"),
		},
		DefaultRoutes: []gateway.Route{
			{Gateway: netip.MustParseAddr("fd01::fe"), Index: 3, Iface: "a0", Metric: 10},
			{Gateway: netip.MustParseAddr("10.2.0.2"), Index: 5, Iface: "b0", Metric: 50},
			{Gateway: netip.MustParseAddr("10.1.0.254"), Index: 3, Iface: "a0", Metric: 100},
		},
	}
	for i := range 6 {
		want.Interfaces[fmt.Sprint("y", i)] = in(9+2*i, false)
		want.Interfaces[fmt.Sprint("x", i)] = in(10+2*i, true, fmt.Sprintf("10.10.%d.1/24", i))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
}

// message frames one netlink message; attrs are (type, value) pairs.
func message(typ uint16, fixed []byte, attrs ...[]byte) []byte {
	body := append([]byte(nil), fixed...)
	for _, a := range attrs {
		body = append(body, a...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	b := binary.NativeEndian.AppendUint32(nil, uint32(16+len(body)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	return append(append(b, make([]byte, 10)...), body...)
}

func rtattr(typ uint16, val []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(val)))
	return append(binary.NativeEndian.AppendUint16(b, typ), val...)
}

func ifaddrmsg(family, prefixLen byte, index uint32) []byte {
	return binary.NativeEndian.AppendUint32([]byte{family, prefixLen, 0, 0}, index)
}

func TestParseAddrDumpEdges(t *testing.T) {
	v4 := []byte{10, 0, 0, 1}
	v6 := netip.MustParseAddr("fd00::1").As16()
	addrs, err := parseAddrDump(slices.Concat(
		message(rtmNewAddr, ifaddrmsg(afInet, 40, 2), rtattr(ifaAddress, v4)),   // prefix too long: 0, as net.CIDRMask
		message(rtmNewAddr, ifaddrmsg(afInet6, 64, 3), rtattr(ifaLocal, v6[:])), // IFA_LOCAL alone
		message(rtmNewAddr, ifaddrmsg(7, 8, 4), rtattr(ifaAddress, v4)),         // other family: skipped
		message(rtmNewAddr, ifaddrmsg(afInet, 8, 5)),                            // no address: skipped
		message(3, nil), // NLMSG_DONE
	))
	want := []ifAddr{{2, netip.MustParsePrefix("10.0.0.1/0")}, {3, netip.MustParsePrefix("fd00::1/64")}}
	if err != nil || !reflect.DeepEqual(addrs, want) {
		t.Fatalf("%+v %v", addrs, err)
	}
	for name, b := range map[string][]byte{
		"short ifaddrmsg":     message(rtmNewAddr, []byte{afInet, 8, 0, 0}),
		"IPv6 in IPv4":        message(rtmNewAddr, ifaddrmsg(afInet, 8, 1), rtattr(ifaAddress, v6[:])),
		"3-byte address":      message(rtmNewAddr, ifaddrmsg(afInet, 8, 1), rtattr(ifaAddress, v4[:3])),
		"attribute too long":  message(rtmNewAddr, ifaddrmsg(afInet, 8, 1), []byte{200, 0, 1, 0}),
		"error message":       message(2, nil),
		"done with an errno":  message(3, binary.NativeEndian.AppendUint32(nil, uint32(0xffffffff))),
		"message cut":         message(rtmNewAddr, ifaddrmsg(afInet, 8, 1), rtattr(ifaAddress, v4))[:20],
		"header length short": {8, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, err := parseAddrDump(b); !errors.Is(err, gateway.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseLinkDumpEdges(t *testing.T) {
	ifinfo := func(index int32, flags uint32) []byte {
		b := binary.NativeEndian.AppendUint32([]byte{0, 0, 1, 0}, uint32(index))
		return binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(b, flags), 0)
	}
	links, err := parseLinkDump(slices.Concat(
		message(rtmNewLink, ifinfo(4, iffUp), rtattr(iflaIfname, []byte("eth0\x00"))),
		message(rtmNewLink, ifinfo(5, 0x1000), rtattr(iflaIfname, []byte("wg0"))), // no NUL, not up
		message(3, nil), // NLMSG_DONE ends the dump
		message(rtmNewLink, ifinfo(6, 0), rtattr(iflaIfname, []byte("after-done\x00"))),
	))
	want := []link{{4, "eth0", true}, {5, "wg0", false}}
	if err != nil || !reflect.DeepEqual(links, want) {
		t.Fatalf("%+v %v", links, err)
	}
	for name, b := range map[string][]byte{
		"short ifinfomsg":    message(rtmNewLink, ifinfo(1, 0)[:12]),
		"attribute too long": message(rtmNewLink, ifinfo(1, 0), []byte{9, 0, 3, 0}),
		"attribute of 2":     message(rtmNewLink, ifinfo(1, 0), []byte{2, 0, 3, 0}),
	} {
		if _, err := parseLinkDump(b); !errors.Is(err, gateway.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
