package upnp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// ErrNoResponse means no acceptable SSDP answer came from the gateway in time.
var ErrNoResponse = errors.New("upnp: no SSDP response from the gateway")

// searchTargets are sent in this order; an IGDv2 device also answers v1.
var searchTargets = []string{IGDv1, IGDv2}

// Search sends M-SEARCH requests from conn to each target (the gateway's
// unicast address and/or the SSDP group) and returns the first answer that
// comes from the gateway's address and whose LOCATION is on that address.
// Anything else is ignored. It gives up when ctx ends.
func Search(ctx context.Context, conn *net.UDPConn, gateway netip.Addr, targets []netip.AddrPort) (SearchResponse, error) {
	gateway = gateway.Unmap()
	for _, st := range searchTargets {
		req := SearchRequest(st, 1)
		for _, t := range targets {
			if _, err := conn.WriteToUDPAddrPort(req, t); err != nil {
				return SearchResponse{}, fmt.Errorf("upnp: M-SEARCH to %v: %w", t, err)
			}
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	} else {
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	check := newGatewayHTTP(gateway)
	refused := ErrNoResponse
	buf := make([]byte, MaxSSDPMessage+1)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || isTimeout(err) {
				return SearchResponse{}, refused
			}
			return SearchResponse{}, fmt.Errorf("upnp: reading SSDP: %w", err)
		}
		if from.Addr().Unmap() != gateway {
			refused = fmt.Errorf("%w (ignored an answer from %v)", ErrNoResponse, from)
			continue
		}
		resp, err := ParseSearchResponse(buf[:n])
		if err == nil {
			err = check.checkURL(resp.Location)
		}
		if err != nil {
			refused = fmt.Errorf("%w (ignored: %v)", ErrNoResponse, err)
			continue
		}
		return resp, nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
