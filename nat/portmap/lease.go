package portmap

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/nat/portmap/upnp"
)

// iroh's requested lifetimes (see the package doc).
const (
	pcpLifetime    = 3600 * time.Second
	natpmpLifetime = 7200 * time.Second
	upnpLifetime   = 7200 * time.Second
	// minLifetime refuses grants too short to renew at half time.
	minLifetime = 2 * time.Second
)

// route is where mapping requests go and what they map.
type route struct {
	gateway netip.Addr // the gateway's LAN address
	local   netip.Addr // our address towards it
	port    uint16     // the local UDP port to map
}

// request is one mapping attempt.
type request struct {
	route
	lifetime time.Duration
	prefer   netip.AddrPort // the external address to keep, if any
	prev     *lease         // the mapping being renewed, if any
}

// lease is a mapping the gateway granted.
type lease struct {
	route
	proto    Protocol
	external netip.AddrPort
	lifetime time.Duration
	nonce    [12]byte      // PCP: identifies the mapping for renewal and deletion
	igd      *upnp.Gateway // UPnP: where to delete it
}

// grantedLifetime checks a lifetime in seconds from the gateway.
func grantedLifetime(seconds uint32) (time.Duration, error) {
	d := time.Duration(seconds) * time.Second
	if d < minLifetime {
		return 0, fmt.Errorf("%w: %v", ErrLifetimeTooLow, d)
	}
	return d, nil
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// checkExternal refuses addresses peers on the internet cannot reach.
func checkExternal(ap netip.AddrPort) error {
	a := ap.Addr().Unmap()
	switch {
	case ap.Port() == 0:
		return fmt.Errorf("%w: port 0", ErrBadExternal)
	case !a.Is4():
		return fmt.Errorf("%w: %v is not IPv4", ErrBadExternal, ap.Addr())
	case a.IsUnspecified(), a.IsLoopback(), a.IsMulticast(), a.IsLinkLocalUnicast(),
		a.IsPrivate(), sharedSpace.Contains(a), a.As4()[0] == 0, a.As4()[0] >= 240:
		return fmt.Errorf("%w: %v", ErrBadExternal, a)
	}
	return nil
}
