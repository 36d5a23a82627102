package portmap

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/upnp"
)

const (
	upnpDescription = "irohspoke"
	upnpPortTries   = 3
)

var ssdpGroup = netip.MustParseAddrPort(upnp.SSDPGroup)

// upnpClient maps with UPnP IGD; it remembers the gateway found by the
// last discovery, as iroh does.
type upnpClient struct {
	targets func(gw netip.Addr) []netip.AddrPort
	wait    time.Duration // for discovery
	igd     *upnp.Gateway
}

// ssdpTargets searches at the gateway itself and on the SSDP group.
func ssdpTargets(gw netip.Addr) []netip.AddrPort {
	return []netip.AddrPort{netip.AddrPortFrom(gw, upnp.SSDPPort), ssdpGroup}
}

func (c *upnpClient) discover(ctx context.Context, r route) (*upnp.Gateway, error) {
	ctx, cancel := context.WithTimeout(ctx, c.wait)
	defer cancel()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.local, 0)))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	g, err := upnp.Discover(ctx, conn, r.gateway, c.targets(r.gateway))
	if err != nil {
		return nil, err
	}
	c.igd = g
	return g, nil
}

func (c *upnpClient) probe(ctx context.Context, r route) bool {
	_, err := c.discover(ctx, r)
	return err == nil
}

func (c *upnpClient) mapPort(ctx context.Context, req request) (lease, error) {
	g := c.igd
	if g == nil || g.Addr != req.gateway {
		var err error
		if g, err = c.discover(ctx, req.route); err != nil {
			return lease{}, err
		}
	}
	l, err := c.mapWith(ctx, g, req)
	if err != nil {
		c.igd = nil // maybe stale: discover again next time
	}
	return l, err
}

func (c *upnpClient) mapWith(ctx context.Context, g *upnp.Gateway, req request) (lease, error) {
	ip, err := g.ExternalIP(ctx)
	if err != nil {
		return lease{}, err
	}
	if err := checkExternal(netip.AddrPortFrom(ip, 1)); err != nil {
		return lease{}, err
	}
	m := upnp.Mapping{Protocol: "UDP", InternalPort: req.port, InternalClient: req.local,
		Description: upnpDescription, LeaseSeconds: secondsOf(req.lifetime)}
	port, err := addMapping(ctx, g, m, req.prefer.Port())
	if soapCode(err) == upnp.ErrCodeOnlyPermanentLeases {
		m.LeaseSeconds = 0
		port, err = addMapping(ctx, g, m, req.prefer.Port())
	}
	if err != nil {
		return lease{}, err
	}
	return lease{route: req.route, proto: UPnP, external: netip.AddrPortFrom(ip, port), lifetime: req.lifetime, igd: g}, nil
}

// addMapping keeps the preferred port if it can, else asks for any port
// (IGDv2) or tries the local port and then random ones (IGDv1).
func addMapping(ctx context.Context, g *upnp.Gateway, m upnp.Mapping, prefer uint16) (uint16, error) {
	if prefer != 0 {
		m.ExternalPort = prefer
		err := g.AddPortMapping(ctx, m)
		if err == nil || soapCode(err) == upnp.ErrCodeOnlyPermanentLeases {
			return prefer, err
		}
	}
	m.ExternalPort = m.InternalPort
	if g.IGDv2() {
		port, err := g.AddAnyPortMapping(ctx, m)
		if soapCode(err) != upnp.ErrCodeInvalidAction {
			return port, err
		}
	}
	var err error
	for range upnpPortTries {
		if err = g.AddPortMapping(ctx, m); err == nil {
			return m.ExternalPort, nil
		}
		if soapCode(err) != upnp.ErrCodeConflict {
			return 0, err
		}
		m.ExternalPort = uint16(1024 + rand.IntN(65536-1024))
	}
	return 0, err
}

func soapCode(err error) int {
	var se *upnp.SOAPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func (c *upnpClient) release(ctx context.Context, l lease) error {
	if l.igd == nil {
		return nil
	}
	return l.igd.DeletePortMapping(ctx, "UDP", l.external.Port())
}
