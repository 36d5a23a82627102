package portmap

import (
	"fmt"
	"net/netip"

	"github.com/alkdev/irohspoke/nat/gateway"
)

// systemRoute finds the IPv4 gateway in the routing table and the local
// address that reaches it (the socket's own address when it is bound to
// one).
func systemRoute(local netip.AddrPort) (route, error) {
	def, err := gateway.Default()
	if err != nil {
		return route{}, err
	}
	src := local.Addr().Unmap()
	if !src.Is4() || src.IsUnspecified() {
		if src, err = gateway.LocalAddr(def.Gateway); err != nil {
			return route{}, err
		}
	}
	if !src.Is4() || src.IsLoopback() || src.IsUnspecified() {
		return route{}, fmt.Errorf("portmap: no usable IPv4 address towards gateway %v (got %v)", def.Gateway, src)
	}
	return route{gateway: def.Gateway, local: src, port: local.Port()}, nil
}
