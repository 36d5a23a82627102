//go:build linux

package roamlab

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// RouterSpec is a NAT router's behaviour.
type RouterSpec struct {
	Kind natlab.NATKind // masquerade, or masquerade fully-random
	UPnP bool           // run miniupnpd: UPnP IGD, NAT-PMP and PCP
}

// Router is a NAT router: WAN on the public segment, one LAN link.
type Router struct {
	*natlab.Host              // the router's namespace; Addr is its public address
	LAN          netip.Prefix // 10.N.0.0/24; the router is .1
	Daemon       *natlab.Proc // miniupnpd, nil without UPnP
	leases       string       // miniupnpd's lease file
	name         string       // as given; Host.Name is "<name>-nat"
	spec         RouterSpec
	dir          string
	attached     bool
}

// Router adds a NAT router named name (a-z0-9, up to 12: a host's link
// to it is "up-<name>").
func (l *Lab) Router(t testing.TB, name string, spec RouterSpec) *Router {
	t.Helper()
	if len(name) == 0 || len(name) > 12 {
		t.Fatalf("roamlab: router name %q", name)
	}
	if l.routers >= maxRouters {
		t.Fatalf("roamlab: more than %d routers", maxRouters)
	}
	l.routers++
	lan := netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/24", l.routers))
	ns, err := l.netns("r-" + name)
	var wan netip.Addr
	if err == nil {
		wan, err = l.nextPublic()
	}
	if err == nil {
		err = l.plugUp(ns, natlab.RouterWAN, wan)
	}
	if err != nil {
		t.Fatalf("roamlab: router %s: %v", name, err)
	}
	r := &Router{Host: natlab.NewHost(name+"-nat", ns, wan), LAN: lan, name: name, spec: spec, dir: l.Dir}
	if _, err := r.Exec(t.Context(), "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		t.Fatal(err)
	}
	if err := loadRuleset(r.Host, spec.Kind); err != nil {
		t.Fatal(err)
	}
	return r
}

// gateway is the router's LAN address, .1.
func (r *Router) gateway() netip.Addr { return r.LAN.Addr().Next() }

// Link is one of a host's uplinks; it starts down.
type Link struct {
	host   *natlab.Host
	ifname string
	addr   netip.Prefix
	gw     netip.Addr // invalid on the public segment (on-link)
}

// Attach gives h an uplink to r's LAN (h gets .2) and starts the router's
// miniupnpd, which needs its LAN interface to exist. A router has one LAN
// host.
func (l *Lab) Attach(t testing.TB, h *natlab.Host, r *Router) *Link {
	t.Helper()
	if r.attached {
		t.Fatalf("roamlab: router %s already has a LAN host", r.Name)
	}
	r.attached = true
	k := &Link{host: h, ifname: "up-" + r.name, addr: netip.PrefixFrom(r.gateway().Next(), 24), gw: r.gateway()}
	err := ipAll([][]string{
		{"-n", r.Netns, "link", "add", natlab.RouterLAN, "type", "veth", "peer", "name", k.ifname, "netns", h.Netns},
		{"-n", r.Netns, "addr", "add", netip.PrefixFrom(r.gateway(), 24).String(), "dev", natlab.RouterLAN},
		{"-n", r.Netns, "link", "set", natlab.RouterLAN, "up"},
	})
	if err != nil {
		t.Fatalf("roamlab: attaching %s to %s: %v", h.Name, r.Name, err)
	}
	if r.spec.UPnP {
		r.startDaemon(t, r.dir)
	}
	return k
}

// AttachPublic gives h an uplink onto the public segment with an address
// of its own.
func (l *Lab) AttachPublic(t testing.TB, h *natlab.Host) *Link {
	t.Helper()
	addr, err := l.nextPublic()
	if err == nil {
		err = l.plug(h.Netns, "up-pub")
	}
	if err != nil {
		t.Fatalf("roamlab: public uplink for %s: %v", h.Name, err)
	}
	return &Link{host: h, ifname: "up-pub", addr: netip.PrefixFrom(addr, 24)}
}

// Addr is the host's address on this link.
func (k *Link) Addr() netip.Addr { return k.addr.Addr() }

// Up configures the link's address, brings it up and, behind a router,
// makes it the default route.
func (k *Link) Up() error {
	steps := upSteps(k.host.Netns, k.ifname, k.addr)
	if k.gw.IsValid() {
		steps = append(steps, []string{"-n", k.host.Netns, "route", "replace", "default", "via", k.gw.String(), "dev", k.ifname})
	}
	return ipAll(steps)
}

// Down takes the link away as leaving a network does: the interface goes
// down and loses its address (and with it its routes).
func (k *Link) Down() error {
	return ipAll([][]string{
		{"-n", k.host.Netns, "link", "set", k.ifname, "down"},
		{"-n", k.host.Netns, "addr", "flush", "dev", k.ifname},
	})
}
