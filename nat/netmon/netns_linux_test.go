package netmon

import (
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/nat/gateway"
	"github.com/alkdev/irohspoke/nat/internal/netnstest"
)

func nextEvent(t *testing.T, m *Monitor, what string) Event {
	t.Helper()
	select {
	case e := <-m.Events():
		return e
	case <-time.After(3 * time.Second):
		t.Fatalf("no event after %s", what)
		return Event{}
	}
}

// TestMonitorInNamespace changes a namespace of its own and watches the
// netlink subscription report it.
func TestMonitorInNamespace(t *testing.T) {
	if !netnstest.Enter(t) {
		return
	}
	netnstest.IP(t, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	netnstest.IP(t, "link", "set", "v0", "up")
	netnstest.IP(t, "link", "set", "v1", "up")
	time.Sleep(100 * time.Millisecond) // let link-up noise settle before the baseline
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	drain(m)

	netnstest.IP(t, "addr", "add", "10.9.0.2/24", "dev", "v0")
	if e := nextEvent(t, m, "adding an address"); !e.Major || !hasAddr(e.New, "v0", "10.9.0.2/24") {
		t.Fatalf("address added: %+v", e)
	}
	netnstest.IP(t, "route", "add", "default", "via", "10.9.0.1", "dev", "v0")
	e := nextEvent(t, m, "adding a default route")
	if !e.Major || len(e.New.DefaultRoutes) != 1 || e.New.DefaultRoutes[0].Gateway != netip.MustParseAddr("10.9.0.1") {
		t.Fatalf("default route: %+v", e)
	}
	if r, err := gateway.Default(); err != nil || r.Gateway != netip.MustParseAddr("10.9.0.1") || r.Iface != "v0" {
		t.Fatalf("gateway.Default() = %+v, %v", r, err)
	}

	netnstest.IP(t, "addr", "add", "10.8.0.2/24", "dev", "v1")
	nextEvent(t, m, "adding a second address")
	netnstest.IP(t, "route", "replace", "default", "via", "10.8.0.1", "dev", "v1")
	e = nextEvent(t, m, "moving the default route")
	if !e.Major || e.New.DefaultRoutes[0].Iface != "v1" || e.Old.DefaultRoutes[0].Iface != "v0" {
		t.Fatalf("default route moved: %+v", e)
	}

	netnstest.IP(t, "addr", "add", "169.254.3.3/16", "dev", "v0")
	if e := nextEvent(t, m, "adding a link-local address"); e.Major {
		t.Fatalf("a link-local address was a major change: %+v", e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-m.Events(); ok {
		t.Fatal("events not closed")
	}
}

// TestBaselineAfterSubscribing: a change made once New has subscribed is
// in the baseline New reads, so no change falls between the two.
func TestBaselineAfterSubscribing(t *testing.T) {
	if !netnstest.Enter(t) {
		return
	}
	netnstest.IP(t, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	testHookSubscribed = func() { netnstest.IP(t, "addr", "add", "10.9.0.2/24", "dev", "v0") }
	defer func() { testHookSubscribed = func() {} }()
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !hasAddr(m.State(), "v0", "10.9.0.2/24") {
		t.Fatalf("the baseline misses the address: %+v", m.State())
	}
}

// drain discards what the setup itself caused.
func drain(m *Monitor) {
	for {
		select {
		case <-m.Events():
		case <-time.After(2 * defaultDebounce):
			return
		}
	}
}

func hasAddr(s State, iface, prefix string) bool {
	for _, p := range s.Interfaces[iface].Addrs {
		if p.String() == prefix {
			return true
		}
	}
	return false
}
