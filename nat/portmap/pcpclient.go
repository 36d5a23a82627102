package portmap

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/pcp"
)

// pcpClient maps with PCP (RFC 6887).
type pcpClient struct {
	port uint16
	wait time.Duration // for each answer
}

func (c pcpClient) server(gw netip.Addr) netip.AddrPort { return netip.AddrPortFrom(gw, c.port) }

func (c pcpClient) probe(ctx context.Context, r route) bool {
	req := pcp.Request{Opcode: pcp.OpAnnounce, ClientAddr: r.local}.Append(nil)
	err := exchange(ctx, r.local, c.server(r.gateway), req, c.wait, func(b []byte) (bool, error) {
		resp, err := pcp.ParseResponse(b)
		if err != nil || resp.Opcode != pcp.OpAnnounce {
			return false, fmt.Errorf("not an ANNOUNCE answer: %v", err)
		}
		if resp.Result != pcp.Success {
			return true, fmt.Errorf("pcp: ANNOUNCE: %v", resp.Result)
		}
		return true, nil
	})
	return err == nil
}

func (c pcpClient) mapPort(ctx context.Context, req request) (lease, error) {
	var nonce [12]byte
	if req.prev != nil && req.prev.proto == PCP {
		nonce = req.prev.nonce // renewing: the same mapping
	} else {
		_, _ = rand.Read(nonce[:])
	}
	msg := c.mapRequest(req.route, nonce, secondsOf(req.lifetime), req.prefer)
	l := lease{route: req.route, proto: PCP, nonce: nonce}
	err := exchange(ctx, req.local, c.server(req.gateway), msg, c.wait, func(b []byte) (bool, error) {
		resp, err := c.answer(b, nonce)
		if err != nil || resp == nil {
			return resp != nil, err
		}
		if resp.Map.Protocol != pcp.ProtoUDP || resp.Map.InternalPort != req.port {
			return true, fmt.Errorf("%w: pcp mapped %d/%d", ErrBadAnswer, resp.Map.Protocol, resp.Map.InternalPort)
		}
		l.external = netip.AddrPortFrom(resp.Map.ExternalAddr, resp.Map.ExternalPort)
		if err := checkExternal(l.external); err != nil {
			return true, err
		}
		l.lifetime, err = grantedLifetime(resp.Lifetime)
		return true, err
	})
	return l, err
}

func (c pcpClient) mapRequest(r route, nonce [12]byte, lifetime uint32, prefer netip.AddrPort) []byte {
	return pcp.Request{Opcode: pcp.OpMap, Lifetime: lifetime, ClientAddr: r.local, Map: pcp.MapData{
		Nonce: nonce, Protocol: pcp.ProtoUDP, InternalPort: r.port,
		ExternalPort: prefer.Port(), ExternalAddr: prefer.Addr(),
	}}.Append(nil)
}

// answer decodes a MAP response to the request with nonce. A nil response
// and an error mean "not ours, keep waiting"; a response with an error or
// a nil error means it is the answer.
func (c pcpClient) answer(b []byte, nonce [12]byte) (*pcp.Response, error) {
	resp, err := pcp.ParseResponse(b)
	switch {
	case err != nil:
		return nil, err
	case resp.Opcode != pcp.OpMap:
		return nil, fmt.Errorf("pcp: opcode %d answer to MAP", resp.Opcode)
	case resp.HasMap && resp.Map.Nonce != nonce:
		return nil, fmt.Errorf("%w: pcp nonce mismatch", ErrBadAnswer)
	case resp.Result != pcp.Success:
		return &resp, fmt.Errorf("pcp: MAP: %v", resp.Result)
	}
	return &resp, nil
}

func (c pcpClient) release(ctx context.Context, l lease) error {
	msg := c.mapRequest(l.route, l.nonce, 0, netip.AddrPort{})
	return exchange(ctx, l.local, c.server(l.gateway), msg, c.wait, func(b []byte) (bool, error) {
		resp, err := c.answer(b, l.nonce)
		return resp != nil, err
	})
}
