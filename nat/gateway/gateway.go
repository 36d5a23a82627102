// Package gateway finds the default gateway from the routing table: on
// Linux through a netlink RTM_GETROUTE dump (no cgo), falling back to
// /proc/net/route; elsewhere it reports ErrUnsupported.
//
// The parsers are plain functions over bytes and build on every OS, so
// their fuzz targets run everywhere.
package gateway

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// Errors.
var (
	ErrNoDefaultRoute = errors.New("gateway: no default route with a gateway")
	ErrUnsupported    = errors.New("gateway: reading the routing table is not supported on this OS")
	ErrMalformed      = errors.New("gateway: malformed routing data")
)

// Route is a default route through a gateway.
type Route struct {
	Gateway netip.Addr
	Index   int    // outgoing interface index, 0 if unknown
	Iface   string // outgoing interface name, "" if unknown
	Metric  uint32 // lower is preferred
}

// Default returns the preferred IPv4 default route.
func Default() (Route, error) {
	routes, err := DefaultRoutes()
	if err != nil {
		return Route{}, err
	}
	for _, r := range routes {
		if r.Gateway.Is4() {
			return r, nil
		}
	}
	return Route{}, ErrNoDefaultRoute
}

// DefaultRoutes returns every default route (IPv4 and IPv6) of the main
// table, lowest metric first, with interface names filled in.
func DefaultRoutes() ([]Route, error) {
	routes, err := readDefaultRoutes()
	if err != nil {
		return nil, err
	}
	NameAndSort(routes, nil)
	return routes, nil
}

// NameAndSort finishes parsed routes as DefaultRoutes returns them: the
// interface names from names (index to name, e.g. from a link dump the
// caller made anyway), else from net.InterfaceByIndex, which costs a
// link dump per route; then lowest metric first.
func NameAndSort(routes []Route, names map[int]string) {
	for i := range routes {
		if routes[i].Iface != "" || routes[i].Index <= 0 {
			continue
		}
		if name, ok := names[routes[i].Index]; ok {
			routes[i].Iface = name
		} else if ifi, err := net.InterfaceByIndex(routes[i].Index); err == nil {
			routes[i].Iface = ifi.Name
		}
	}
	sortRoutes(routes)
}

func sortRoutes(routes []Route) {
	slices.SortStableFunc(routes, func(a, b Route) int { return cmp.Compare(a.Metric, b.Metric) })
}

// LocalAddr returns the source address the kernel picks to reach dst. It
// connects a UDP socket, which sends nothing.
func LocalAddr(dst netip.Addr) (netip.Addr, error) {
	network := "udp4"
	if !dst.Unmap().Is4() {
		network = "udp6"
	}
	c, err := net.DialUDP(network, nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst.Unmap(), 9)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("gateway: no route to %v: %w", dst, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}
