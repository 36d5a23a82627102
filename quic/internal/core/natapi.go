package core

import (
	"net/netip"
	"time"
)

// NatTraversal is the n0 NAT traversal API of a connection, from
// Conn.NatTraversal.
type NatTraversal struct{ c *Conn }

// NatTraversal returns the connection's NAT traversal API.
func (c *Conn) NatTraversal() NatTraversal { return NatTraversal{c} }

// Negotiated reports whether both sides agreed on n0 NAT traversal.
func (n NatTraversal) Negotiated() bool { return n.c.nat != nil }

// AddAddress announces one of our candidate addresses to the client
// (server side).
func (n NatTraversal) AddAddress(ap netip.AddrPort) error {
	s, err := n.c.nat.serverSide()
	if err != nil {
		return err
	}
	return s.addLocal(ap, n.c.nat.peerLimit)
}

// RemoveAddress withdraws a candidate announced with AddAddress.
func (n NatTraversal) RemoveAddress(ap netip.AddrPort) error {
	s, err := n.c.nat.serverSide()
	if err != nil {
		return err
	}
	s.removeLocal(ap)
	return nil
}

// LocalAddresses returns the candidates announced with AddAddress and not
// withdrawn (server side).
func (n NatTraversal) LocalAddresses() []netip.AddrPort {
	s, err := n.c.nat.serverSide()
	if err != nil {
		return nil
	}
	return s.localAddrs()
}

// RemoteAddresses returns the candidates the server announced (client
// side).
func (n NatTraversal) RemoteAddresses() []netip.AddrPort {
	s, err := n.c.nat.clientSide()
	if err != nil {
		return nil
	}
	return s.remoteAddrs()
}

// StartRound starts a hole-punching round (client side): it tells the
// server our candidate addresses (REACH_OUT, at most the server's limit)
// and probes every candidate the server announced. A probe answered from
// its address opens a Backup path there.
func (n NatTraversal) StartRound(now time.Time, local []netip.AddrPort) error {
	return n.c.startNatRound(now, local)
}
