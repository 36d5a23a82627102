//go:build linux

package natlab

import "net/netip"

// NewHost describes a namespace built by another lab (interop/inetlab),
// so the process and socket helpers here work in it too. addr is the
// host's own address (Host.Addr).
func NewHost(name, netns string, addr netip.Addr) *Host {
	return &Host{Name: name, Netns: netns, addr: addr}
}

// Do runs fn on an OS thread inside the host's namespace: sockets fn
// creates live there and may be used from any goroutine afterwards.
func (h *Host) Do(fn func() error) error { return h.do(fn) }

// NATRuleset is the nftables ruleset of a NAT router of this kind, for a
// router whose interfaces are called "wan" and "lan" (see natRuleset).
func NATRuleset(kind NATKind) (string, error) { return natRuleset(kind) }

// RouterInterfaces are the names NATRuleset expects for a router's public
// and private interfaces.
const (
	RouterWAN = wanIf
	RouterLAN = lanIf
)
