package upnp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// HTTP limits. UPnP devices answer from the LAN; anything slower is broken.
const (
	dialTimeout    = 2 * time.Second
	requestTimeout = 3 * time.Second
	maxHeaderBytes = 8 << 10
)

// Errors of the HTTP side.
var (
	// ErrForeignURL means a description or control URL does not point at
	// the gateway's own address, so it is not fetched.
	ErrForeignURL = errors.New("upnp: URL is not on the gateway's address")
	ErrTooLarge   = errors.New("upnp: response too large")
	ErrHTTPStatus = errors.New("upnp: unexpected HTTP status")
)

// gatewayHTTP is an HTTP client that can only reach one address.
type gatewayHTTP struct {
	gateway netip.Addr
	client  *http.Client
}

func newGatewayHTTP(gateway netip.Addr) *gatewayHTTP {
	gateway = gateway.Unmap()
	dialer := &net.Dialer{
		Timeout: dialTimeout,
		// The last line of defence: whatever URL got here, the socket may
		// only connect to the gateway.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || ap.Addr().Unmap() != gateway {
				return fmt.Errorf("%w: dialing %s", ErrForeignURL, address)
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxHeaderBytes,
		ResponseHeaderTimeout:  requestTimeout,
	}
	return &gatewayHTTP{gateway: gateway, client: &http.Client{
		Transport: transport,
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return fmt.Errorf("%w: redirect", ErrForeignURL)
		},
	}}
}

// checkURL accepts only http URLs whose host is the gateway's IP literal.
func (g *gatewayHTTP) checkURL(u *url.URL) error {
	if u == nil || u.Scheme != "http" || u.User != nil {
		return fmt.Errorf("%w: %v", ErrForeignURL, u)
	}
	host, err := netip.ParseAddr(u.Hostname())
	if err != nil || host.Unmap() != g.gateway {
		return fmt.Errorf("%w: %s (gateway %s)", ErrForeignURL, u.Redacted(), g.gateway)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %q", ErrForeignURL, p)
		}
	}
	return nil
}

// do sends a request and returns the status and a body of at most limit bytes.
func (g *gatewayHTTP) do(ctx context.Context, method string, u *url.URL, header http.Header, body []byte, limit int) (int, []byte, error) {
	if err := g.checkURL(u); err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > limit {
		return 0, nil, fmt.Errorf("%w: more than %d bytes from %s", ErrTooLarge, limit, u.Redacted())
	}
	return resp.StatusCode, data, nil
}
