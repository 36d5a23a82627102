package quic

import "net"

// NewUDPTransport wraps an open UDP socket (one made in another network
// namespace, say) as a Transport; the endpoint owns it from then on.
func NewUDPTransport(c *net.UDPConn) Transport { return newUDPTransport(c) }
