package relay

import (
	"errors"
	"net/netip"
	"slices"
)

// errLocalAddrGone: the connection left from an address we no longer have.
var errLocalAddrGone = errors.New("relay: the connection's local address is gone")

// CheckConnectionFrom is CheckConnection after a network change that
// left the host with the addresses local. A connection from an address
// that is gone is dead (nothing sent to it can come back), so the client
// drops it and reconnects at once, as iroh does, rather than wait out a
// ping timeout; one from an address still here is pinged.
func (c *Client) CheckConnectionFrom(local []netip.Addr) {
	c.checkLocal.Store(&local)
	c.CheckConnection()
}

// localAddrGone takes the addresses of the last CheckConnectionFrom, if
// any, and reports whether the connection's local address is not among
// them.
func (cc *clientConn) localAddrGone() bool {
	local := cc.c.checkLocal.Swap(nil)
	if local == nil {
		return false
	}
	ap, err := netip.ParseAddrPort(cc.ws.NetConn().LocalAddr().String())
	if err != nil {
		return false // not an IP connection: nothing to compare
	}
	return !slices.Contains(*local, ap.Addr().Unmap())
}
