// Package netmon watches the network configuration and reports changes:
// on Linux through a netlink subscription to address and route changes
// (RTNLGRP_LINK, IPV4_IFADDR, IPV6_IFADDR, IPV4_ROUTE, IPV6_ROUTE),
// elsewhere by polling net.Interfaces. Each change is an Event, marked
// major when the default route or an interface's usable addresses changed
// (the reasons to re-probe NAT mappings and re-run address discovery).
//
// As in iroh's netwatch (net-tools, netwatch/src/netmon/actor.rs and
// interfaces.rs), bursts are debounced for 250 ms, the state is re-read and
// compared, and link-local, loopback and multicast addresses do not count
// as major.
package netmon

import (
	"maps"
	"net"
	"net/netip"
	"slices"

	"github.com/alkdev/irohspoke/nat/gateway"
)

// Interface is one network interface's state.
type Interface struct {
	Index int
	Up    bool
	Addrs []netip.Prefix // sorted
}

// State is a snapshot of interfaces and default routes.
type State struct {
	Interfaces    map[string]Interface
	DefaultRoutes []gateway.Route // lowest metric first
}

// ReadState takes a snapshot. The routes are left empty where the routing
// table cannot be read. On Linux it takes one netlink dump each of links,
// addresses and routes; elsewhere, or when netlink fails, it reads
// net.Interfaces (a dump per interface on Linux).
func ReadState() (State, error) {
	if s, err := readStateNetlink(); err == nil {
		return s, nil
	}
	return readStatePortable()
}

// readStatePortable builds the snapshot from net.Interfaces.
func readStatePortable() (State, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return State{}, err
	}
	s := State{Interfaces: make(map[string]Interface, len(ifs))}
	for _, ifi := range ifs {
		in := Interface{Index: ifi.Index, Up: ifi.Flags&net.FlagUp != 0}
		addrs, err := ifi.Addrs()
		if err != nil {
			return State{}, err
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if p, ok := prefixOf(ipn); ok {
					in.Addrs = append(in.Addrs, p)
				}
			}
		}
		sortAddrs(in.Addrs)
		s.Interfaces[ifi.Name] = in
	}
	s.DefaultRoutes, _ = gateway.DefaultRoutes()
	return s, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	bits, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), bits), true
}

// usable: addresses that can carry traffic beyond the link.
func usable(p netip.Prefix) bool {
	a := p.Addr()
	return !a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsMulticast() && !a.IsUnspecified()
}

// usableAddrs lists an interface's usable addresses, nil when it is down.
func (i Interface) usableAddrs() []netip.Prefix {
	if !i.Up {
		return nil
	}
	var out []netip.Prefix
	for _, p := range i.Addrs {
		if usable(p) {
			out = append(out, p)
		}
	}
	return out
}

// Classify compares two snapshots: changed when they differ at all, major
// when the default routes or any interface's usable addresses differ.
func Classify(old, cur State) (changed, major bool) {
	major = !slices.Equal(routeKeys(old), routeKeys(cur))
	names := map[string]bool{}
	for n := range old.Interfaces {
		names[n] = true
	}
	for n := range cur.Interfaces {
		names[n] = true
	}
	changed = major
	for n := range names {
		a, b := old.Interfaces[n], cur.Interfaces[n]
		if !slices.Equal(a.usableAddrs(), b.usableAddrs()) {
			major = true
		}
		if a.Index != b.Index || a.Up != b.Up || !slices.Equal(a.Addrs, b.Addrs) {
			changed = true
		}
	}
	return changed || major, major
}

type routeKey struct {
	gw    netip.Addr
	iface string
}

func routeKeys(s State) []routeKey {
	keys := make([]routeKey, 0, len(s.DefaultRoutes))
	for _, r := range s.DefaultRoutes {
		keys = append(keys, routeKey{r.Gateway, r.Iface})
	}
	return keys
}

// clone copies a state so that events never share maps.
func (s State) clone() State {
	c := State{Interfaces: maps.Clone(s.Interfaces), DefaultRoutes: slices.Clone(s.DefaultRoutes)}
	return c
}
