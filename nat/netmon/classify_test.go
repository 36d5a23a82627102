package netmon

import (
	"net/netip"
	"testing"

	"github.com/alkdev/irohspoke/nat/gateway"
)

func st(routes []gateway.Route, ifs map[string]Interface) State {
	return State{Interfaces: ifs, DefaultRoutes: routes}
}

func TestClassify(t *testing.T) {
	p := netip.MustParsePrefix
	eth := func(up bool, addrs ...string) Interface {
		i := Interface{Index: 2, Up: up}
		for _, a := range addrs {
			i.Addrs = append(i.Addrs, p(a))
		}
		return i
	}
	gw := []gateway.Route{{Gateway: netip.MustParseAddr("10.0.0.1"), Iface: "eth0"}}
	base := st(gw, map[string]Interface{"eth0": eth(true, "10.0.0.2/24", "fe80::1/64"), "lo": {Index: 1, Up: true, Addrs: []netip.Prefix{p("127.0.0.1/8")}}})
	with := func(f func(s *State)) State {
		s := base.clone()
		f(&s)
		return s
	}
	cases := []struct {
		name           string
		cur            State
		changed, major bool
	}{
		{"same", base.clone(), false, false},
		{"address added", with(func(s *State) { s.Interfaces["eth0"] = eth(true, "10.0.0.2/24", "10.0.0.3/24", "fe80::1/64") }), true, true},
		{"default route moved", with(func(s *State) {
			s.DefaultRoutes = []gateway.Route{{Gateway: netip.MustParseAddr("10.0.0.254"), Iface: "eth0"}}
		}), true, true},
		{"default route gone", with(func(s *State) { s.DefaultRoutes = nil }), true, true},
		{"interface down", with(func(s *State) { s.Interfaces["eth0"] = eth(false, "10.0.0.2/24", "fe80::1/64") }), true, true},
		{"new interface with an address", with(func(s *State) { s.Interfaces["wlan0"] = eth(true, "192.168.1.5/24") }), true, true},
		{"link-local address", with(func(s *State) { s.Interfaces["eth0"] = eth(true, "10.0.0.2/24", "169.254.1.1/16", "fe80::1/64") }), true, false},
		{"new interface without addresses", with(func(s *State) { s.Interfaces["veth9"] = Interface{Index: 9, Up: true} }), true, false},
		{"loopback alias", with(func(s *State) {
			s.Interfaces["lo"] = Interface{Index: 1, Up: true, Addrs: []netip.Prefix{p("127.0.0.1/8"), p("127.0.0.2/8")}}
		}), true, false},
	}
	for _, c := range cases {
		changed, major := Classify(base, c.cur)
		if changed != c.changed || major != c.major {
			t.Errorf("%s: changed %v major %v, want %v %v", c.name, changed, major, c.changed, c.major)
		}
	}
}
