package upnp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
)

// Gateway is the WAN connection service of an Internet Gateway Device.
// All its requests go to Addr.
type Gateway struct {
	Addr        netip.Addr // the gateway's LAN address
	ServiceType string     // one of the WAN*Connection service types
	ControlURL  *url.URL
	http        *gatewayHTTP
}

// Discover finds the gateway's IGD: Search, then FetchGateway.
func Discover(ctx context.Context, conn *net.UDPConn, gateway netip.Addr, targets []netip.AddrPort) (*Gateway, error) {
	resp, err := Search(ctx, conn, gateway, targets)
	if err != nil {
		return nil, err
	}
	return FetchGateway(ctx, gateway, resp.Location)
}

// FetchGateway reads the device description at location, which must be on
// the gateway's address, and picks its preferred WAN connection service.
func FetchGateway(ctx context.Context, gateway netip.Addr, location *url.URL) (*Gateway, error) {
	h := newGatewayHTTP(gateway)
	status, body, err := h.do(ctx, http.MethodGet, location, nil, nil, MaxDescription)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%w: %d for the description", ErrHTTPStatus, status)
	}
	desc, err := ParseDescription(body)
	if err != nil {
		return nil, err
	}
	svc, _ := desc.Preferred()
	base := location
	if desc.URLBase != "" {
		if base, err = url.Parse(desc.URLBase); err != nil {
			return nil, fmt.Errorf("%w: URLBase %q", ErrForeignURL, desc.URLBase)
		}
	}
	ref, err := url.Parse(svc.ControlURL)
	if err != nil {
		return nil, fmt.Errorf("%w: controlURL %q", ErrForeignURL, svc.ControlURL)
	}
	control := base.ResolveReference(ref)
	if err := h.checkURL(control); err != nil {
		return nil, err
	}
	return &Gateway{Addr: h.gateway, ServiceType: svc.Type, ControlURL: control, http: h}, nil
}

// IGDv2 reports whether the service offers AddAnyPortMapping.
func (g *Gateway) IGDv2() bool { return g.ServiceType == WANIPConnection2 }

// call performs one SOAP action and returns its out arguments.
func (g *Gateway) call(ctx context.Context, action string, args []arg) (map[string]string, error) {
	header := http.Header{
		"Content-Type": {`text/xml; charset="utf-8"`},
		"Soapaction":   {fmt.Sprintf(`"%s#%s"`, g.ServiceType, action)},
	}
	status, body, err := g.http.do(ctx, http.MethodPost, g.ControlURL, header, soapRequest(g.ServiceType, action, args), MaxSOAPResponse)
	if err != nil {
		return nil, fmt.Errorf("upnp: %s: %w", action, err)
	}
	out, err := ParseSOAPResponse(body, action)
	if err != nil {
		return nil, fmt.Errorf("upnp: %s (HTTP %d): %w", action, status, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("upnp: %s: %w: %d", action, ErrHTTPStatus, status)
	}
	return out, nil
}

// ExternalIP is GetExternalIPAddress.
func (g *Gateway) ExternalIP(ctx context.Context) (netip.Addr, error) {
	out, err := g.call(ctx, "GetExternalIPAddress", nil)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(out["NewExternalIPAddress"])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("upnp: GetExternalIPAddress: %w: %q", ErrSOAP, out["NewExternalIPAddress"])
	}
	return a.Unmap(), nil
}

// Mapping describes a port mapping to add.
type Mapping struct {
	Protocol       string // "UDP" or "TCP"
	ExternalPort   uint16 // wanted (AddAnyPortMapping may give another)
	InternalPort   uint16
	InternalClient netip.Addr
	Description    string
	LeaseSeconds   uint32 // 0: permanent (IGDv1) or the gateway's maximum (IGDv2)
}

func (m Mapping) args() []arg {
	return []arg{
		{"NewRemoteHost", ""},
		{"NewExternalPort", strconv.Itoa(int(m.ExternalPort))},
		{"NewProtocol", m.Protocol},
		{"NewInternalPort", strconv.Itoa(int(m.InternalPort))},
		{"NewInternalClient", m.InternalClient.String()},
		{"NewEnabled", "1"},
		{"NewPortMappingDescription", m.Description},
		{"NewLeaseDuration", strconv.FormatUint(uint64(m.LeaseSeconds), 10)},
	}
}

// AddPortMapping maps exactly m.ExternalPort (or fails, e.g. with SOAPError
// 718 when it is taken).
func (g *Gateway) AddPortMapping(ctx context.Context, m Mapping) error {
	_, err := g.call(ctx, "AddPortMapping", m.args())
	return err
}

// AddAnyPortMapping (IGDv2) maps m.ExternalPort or another free port, and
// returns the port the gateway reserved.
func (g *Gateway) AddAnyPortMapping(ctx context.Context, m Mapping) (uint16, error) {
	out, err := g.call(ctx, "AddAnyPortMapping", m.args())
	if err != nil {
		return 0, err
	}
	p, err := strconv.ParseUint(out["NewReservedPort"], 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("upnp: AddAnyPortMapping: %w: reserved port %q", ErrSOAP, out["NewReservedPort"])
	}
	return uint16(p), nil
}

// DeletePortMapping removes the mapping of externalPort.
func (g *Gateway) DeletePortMapping(ctx context.Context, protocol string, externalPort uint16) error {
	_, err := g.call(ctx, "DeletePortMapping", []arg{
		{"NewRemoteHost", ""},
		{"NewExternalPort", strconv.Itoa(int(externalPort))},
		{"NewProtocol", protocol},
	})
	return err
}
