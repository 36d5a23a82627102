package portmap

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/natpmp"
)

// natpmpClient maps with NAT-PMP (RFC 6886).
type natpmpClient struct {
	port uint16
	wait time.Duration // for each answer
}

func (c natpmpClient) server(gw netip.Addr) netip.AddrPort { return netip.AddrPortFrom(gw, c.port) }

func (c natpmpClient) probe(ctx context.Context, r route) bool {
	_, err := c.externalAddr(ctx, r)
	return err == nil
}

// externalAddr asks for the gateway's external address.
func (c natpmpClient) externalAddr(ctx context.Context, r route) (netip.Addr, error) {
	var addr netip.Addr
	msg := natpmp.Request{Opcode: natpmp.OpExternalAddress}.Append(nil)
	err := exchange(ctx, r.local, c.server(r.gateway), msg, c.wait, func(b []byte) (bool, error) {
		resp, err := natpmp.ParseResponse(b)
		switch {
		case err != nil:
			return false, err
		case resp.Opcode != natpmp.OpExternalAddress:
			return false, fmt.Errorf("nat-pmp: opcode %d answer to an address request", resp.Opcode)
		case resp.Result != natpmp.Success:
			return true, fmt.Errorf("nat-pmp: external address: %v", resp.Result)
		}
		addr = resp.ExternalAddr
		return true, nil
	})
	return addr, err
}

// mapRequest sends a UDP mapping request and returns the matching answer.
func (c natpmpClient) mapRequest(ctx context.Context, r route, suggested uint16, lifetime uint32) (natpmp.Response, error) {
	var got natpmp.Response
	msg := natpmp.Request{Opcode: natpmp.OpMapUDP, InternalPort: r.port, SuggestedPort: suggested, Lifetime: lifetime}.Append(nil)
	err := exchange(ctx, r.local, c.server(r.gateway), msg, c.wait, func(b []byte) (bool, error) {
		resp, err := natpmp.ParseResponse(b)
		switch {
		case err != nil:
			return false, err
		case resp.Opcode != natpmp.OpMapUDP:
			return false, fmt.Errorf("nat-pmp: opcode %d answer to a UDP mapping", resp.Opcode)
		case resp.Result != natpmp.Success:
			return true, fmt.Errorf("nat-pmp: mapping: %v", resp.Result)
		case resp.InternalPort != r.port:
			return false, fmt.Errorf("%w: nat-pmp answer for port %d", ErrBadAnswer, resp.InternalPort)
		}
		got = resp
		return true, nil
	})
	return got, err
}

func (c natpmpClient) mapPort(ctx context.Context, req request) (lease, error) {
	resp, err := c.mapRequest(ctx, req.route, req.prefer.Port(), secondsOf(req.lifetime))
	if err != nil {
		return lease{}, err
	}
	l := lease{route: req.route, proto: NATPMP}
	if l.lifetime, err = grantedLifetime(resp.Lifetime); err != nil {
		return lease{}, err
	}
	addr, err := c.externalAddr(ctx, req.route)
	if err != nil {
		return lease{}, err
	}
	l.external = netip.AddrPortFrom(addr, resp.ExternalPort)
	return l, checkExternal(l.external)
}

func (c natpmpClient) release(ctx context.Context, l lease) error {
	_, err := c.mapRequest(ctx, l.route, 0, 0)
	return err
}
