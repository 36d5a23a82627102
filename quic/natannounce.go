package quic

import "net/netip"

// SetNatAddresses sets the candidates every server connection with NAT
// traversal announces (ADD_ADDRESS) in its first flight, as 0.5-RTT data
// next to its handshake: the client knows them as its handshake
// completes and can punch at once, a round trip sooner than after our
// handshake completes (and more than that sooner than after the
// application accepted the connection). Later changes reach open
// connections through AddNatAddress and RemoveNatAddress.
func (e *Endpoint) SetNatAddresses(aps []netip.AddrPort) {
	aps = append([]netip.AddrPort(nil), aps...)
	e.natAddrs.Store(&aps)
}

// currentNatAddrs is what SetNatAddresses set last.
func (e *Endpoint) currentNatAddrs() []netip.AddrPort {
	if aps := e.natAddrs.Load(); aps != nil {
		return *aps
	}
	return nil
}

// announceNatLocked adds the endpoint's candidates to a server connection
// whose handshake just completed: those set since its first flight (the
// ones already announced are not announced again). c.mu is held.
func (c *Conn) announceNatLocked() {
	aps := c.ep.natAddrs.Load()
	if aps == nil || !c.core.NatTraversal().Negotiated() {
		return
	}
	for _, ap := range *aps {
		if c.core.NatTraversal().AddAddress(ap) != nil {
			return // over the client's limit; the rest would fail too
		}
	}
}
