package gateway

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// nlRoute builds one RTM_NEWROUTE message as the kernel would.
type nlRoute struct {
	family, dstLen, table, typ byte
	attrs                      [][]byte
}

func attr(typ uint16, val []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(val)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, val...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func (r nlRoute) message(msgType uint16) []byte {
	body := []byte{r.family, r.dstLen, 0, 0, r.table, 3, 0, r.typ, 0, 0, 0, 0}
	for _, a := range r.attrs {
		body = append(body, a...)
	}
	b := binary.NativeEndian.AppendUint32(nil, uint32(nlmsgHdrLen+len(body)))
	b = binary.NativeEndian.AppendUint16(b, msgType)
	b = append(b, make([]byte, 10)...)
	return append(b, body...)
}

func dump(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, m...)
	}
	done := binary.NativeEndian.AppendUint32(nil, 20)
	done = binary.NativeEndian.AppendUint16(done, nlmsgDone)
	return append(b, append(done, make([]byte, 14)...)...)
}

func v4Default(gw string, oif, metric uint32) []byte {
	a := netip.MustParseAddr(gw).As4()
	return nlRoute{family: afInet, table: rtTableMain, typ: rtnUnicast, attrs: [][]byte{
		attr(rtaTable, u32(rtTableMain)), attr(rtaPriority, u32(metric)), attr(rtaGateway, a[:]), attr(rtaOIF, u32(oif)),
	}}.message(rtmNewRoute)
}

func TestParseRouteDump(t *testing.T) {
	v6gw := netip.MustParseAddr("fe80::1").As16()
	subnet := netip.MustParseAddr("10.0.0.0").As4()
	routes, err := ParseRouteDump(dump(
		v4Default("10.77.0.1", 2, 100),
		v4Default("192.168.1.1", 3, 50),
		nlRoute{family: afInet6, table: rtTableMain, typ: rtnUnicast, attrs: [][]byte{attr(rtaGateway, v6gw[:])}}.message(rtmNewRoute),
		// Not defaults: a subnet, the local table, a route without a gateway, an unreachable default.
		nlRoute{family: afInet, dstLen: 24, table: rtTableMain, typ: rtnUnicast, attrs: [][]byte{attr(rtaDst, subnet[:])}}.message(rtmNewRoute),
		nlRoute{family: afInet, table: 255, typ: rtnUnicast, attrs: [][]byte{attr(rtaGateway, subnet[:])}}.message(rtmNewRoute),
		nlRoute{family: afInet, table: rtTableMain, typ: rtnUnicast, attrs: [][]byte{attr(rtaOIF, u32(2))}}.message(rtmNewRoute),
		nlRoute{family: afInet, table: rtTableMain, typ: 7, attrs: [][]byte{attr(rtaGateway, subnet[:])}}.message(rtmNewRoute),
		// Not a route message at all.
		nlRoute{family: afInet}.message(20),
	))
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Gateway: netip.MustParseAddr("10.77.0.1"), Index: 2, Metric: 100},
		{Gateway: netip.MustParseAddr("192.168.1.1"), Index: 3, Metric: 50},
		{Gateway: netip.MustParseAddr("fe80::1")},
	}
	if len(routes) != len(want) {
		t.Fatalf("routes %+v", routes)
	}
	for i := range want {
		if routes[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, routes[i], want[i])
		}
	}
	sortRoutes(routes)
	if routes[0].Metric != 0 || routes[1].Metric != 50 {
		t.Fatalf("sorted %+v", routes)
	}
}

func TestParseRouteDumpRefuses(t *testing.T) {
	good := v4Default("10.0.0.1", 1, 1)
	cases := map[string][]byte{
		"short header":     good[:10],
		"length too large": append(binary.NativeEndian.AppendUint32(nil, 1000), good[4:]...),
		"length too small": append(binary.NativeEndian.AppendUint32(nil, 8), good[4:]...),
		"short rtmsg":      nlRoute{}.message(rtmNewRoute)[:nlmsgHdrLen+4],
		"bad attribute":    nlRoute{attrs: [][]byte{{200, 0, 5, 0}}}.message(rtmNewRoute),
		"gateway of 3":     nlRoute{attrs: [][]byte{attr(rtaGateway, []byte{1, 2, 3})}}.message(rtmNewRoute),
		"table of 2":       nlRoute{attrs: [][]byte{attr(rtaTable, []byte{1, 2})}}.message(rtmNewRoute),
		"error message":    nlRoute{}.message(nlmsgError),
	}
	for name, b := range cases {
		// Fix the header length of hand-cut messages so only the named flaw remains.
		if name == "short rtmsg" {
			binary.NativeEndian.PutUint32(b, uint32(len(b)))
		}
		if _, err := ParseRouteDump(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

const procRoute = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
	"eth0\t00000000\t01004D0A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
	"eth0\t00004D0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
	"wlan0\t00000000\t0101A8C0\t0001\t0\t0\t600\t00000000\t0\t0\t0\n"

func TestParseProcRoute(t *testing.T) {
	routes, err := ParseProcRoute([]byte(procRoute))
	if err != nil {
		t.Fatal(err)
	}
	gw := netip.AddrFrom4([4]byte{0x01, 0x00, 0x4d, 0x0a})
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 { // little-endian host
		gw = netip.MustParseAddr("10.77.0.1")
	}
	// wlan0 lacks RTF_GATEWAY, the second eth0 line is a subnet.
	if len(routes) != 1 || routes[0] != (Route{Gateway: gw, Iface: "eth0", Metric: 100}) {
		t.Fatalf("routes %+v", routes)
	}
	for name, text := range map[string]string{
		"no header":    "eth0 00000000 01004D0A 0003 0 0 100 00000000\n",
		"short line":   "Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 0\n",
		"bad hex":      "Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 0000000G 01004D0A 0003 0 0 100 00000000\n",
		"bad metric":   "Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 00000000 01004D0A 0003 0 0 -1 00000000\n",
		"word too big": "Iface Destination Gateway Flags RefCnt Use Metric Mask\neth0 00000000 101004D0A 0003 0 0 1 00000000\n",
	} {
		if _, err := ParseProcRoute([]byte(text)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLocalAddr(t *testing.T) {
	a, err := LocalAddr(netip.MustParseAddr("127.0.0.1"))
	if err != nil || a != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("%v %v", a, err)
	}
}
