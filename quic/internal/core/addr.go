package core

import (
	"fmt"
	"net/netip"
)

// Addr says where a path's datagrams go: a UDP socket address, or a relay
// path (relay URL plus the remote EndpointId). It is comparable so it can key
// maps; the core never looks inside it beyond equality and IsRelay, the
// socket layer decides how a datagram travels.
type Addr struct {
	UDP   netip.AddrPort
	Relay RelayAddr
}

// RelayAddr names a relay path.
type RelayAddr struct {
	URL  string
	Peer [32]byte
}

// UDPAddr returns the Addr of a direct UDP path.
func UDPAddr(ap netip.AddrPort) Addr { return Addr{UDP: ap} }

// IsRelay reports whether the path runs through a relay.
func (a Addr) IsRelay() bool { return a.Relay.URL != "" }

// IsValid reports whether a names a path at all.
func (a Addr) IsValid() bool { return a.IsRelay() || a.UDP.IsValid() }

func (a Addr) String() string {
	if a.IsRelay() {
		return fmt.Sprintf("relay:%s#%x", a.Relay.URL, a.Relay.Peer[:5])
	}
	return a.UDP.String()
}
