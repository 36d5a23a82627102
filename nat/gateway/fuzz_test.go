package gateway

import "testing"

// FuzzParseRouteDump: any byte stream parses or is refused without
// panicking; every accepted route has a gateway of its family.
func FuzzParseRouteDump(f *testing.F) {
	real := defaultRouteMessages(readRouteDump(f))
	f.Add(real)
	f.Add(real[:len(real)/2])
	f.Add(real[:len(real)-3])
	f.Add(dump(v4Default("10.77.0.1", 2, 100)))
	f.Add(dump(nlRoute{family: afInet6, table: rtTableMain, typ: rtnUnicast, attrs: [][]byte{attr(rtaGateway, make([]byte, 16))}}.message(rtmNewRoute)))
	f.Add(v4Default("1.2.3.4", 1, 1)[:20])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, err := ParseRouteDump(b)
		if err != nil {
			return
		}
		for _, r := range routes {
			if !r.Gateway.IsValid() || r.Gateway.IsUnspecified() {
				t.Fatalf("route without a gateway: %+v", r)
			}
		}
	})
}

// FuzzParseProcRoute: any text parses or is refused without panicking.
func FuzzParseProcRoute(f *testing.F) {
	f.Add([]byte(procRoute))
	f.Add([]byte("Iface\n"))
	f.Add([]byte("Iface Destination Gateway Flags RefCnt Use Metric Mask\nx 0 1 3 0 0 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, err := ParseProcRoute(b)
		if err != nil {
			return
		}
		for _, r := range routes {
			if !r.Gateway.Is4() || r.Gateway.IsUnspecified() {
				t.Fatalf("route %+v", r)
			}
		}
	})
}
