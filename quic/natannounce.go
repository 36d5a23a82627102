package quic

import "net/netip"

// SetNatAddresses sets the candidates every server connection with NAT
// traversal announces (ADD_ADDRESS) the moment its handshake completes,
// in the flight that carries HANDSHAKE_DONE. Announcing only after the
// application accepted the connection costs the client's first
// hole-punching round a few milliseconds. Later changes reach open
// connections through AddNatAddress and RemoveNatAddress.
func (e *Endpoint) SetNatAddresses(aps []netip.AddrPort) {
	aps = append([]netip.AddrPort(nil), aps...)
	e.natAddrs.Store(&aps)
}

// announceNatLocked adds the endpoint's candidates to a server connection
// whose handshake just completed. c.mu is held.
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
