package portmap

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Protocol is a port mapping protocol.
type Protocol uint8

// Protocols, in iroh's order of preference.
const (
	None Protocol = iota
	PCP
	NATPMP
	UPnP
)

var protocolNames = [...]string{"none", "pcp", "nat-pmp", "upnp"}

func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return fmt.Sprintf("protocol(%d)", uint8(p))
}

// Event reports the current external address of the mapping.
type Event struct {
	External netip.AddrPort // invalid when there is no mapping
	Protocol Protocol       // None when there is no mapping
	Version  uint64         // grows by one with every change of External
}

// ProbeResult says which protocols the gateway answered.
type ProbeResult struct {
	PCP, NATPMP, UPnP bool
}

// Stats counts what a Mapper did.
type Stats struct {
	Probes   int       // probe rounds
	Attempts int       // mapping attempts (initial, renewal, after expiry)
	Renewals int       // successful renewals
	Failures int       // attempts that got no mapping
	Expiries int       // mappings that ran out
	Releases int       // mappings deleted at the gateway
	Expires  time.Time // when the current mapping ends (zero without one)
}

// Options configure a Mapper. The zero value maps with every protocol.
type Options struct {
	// Disabled makes the Mapper inert: it never sends anything.
	Disabled bool
	// DisablePCP, DisableNATPMP and DisableUPnP turn single protocols off.
	DisablePCP, DisableNATPMP, DisableUPnP bool
	// Lifetime is the lease asked for instead of iroh's (PCP 1 h, NAT-PMP
	// and UPnP 2 h). Gateways may grant less; renewal follows what they grant.
	Lifetime time.Duration
	// Clock drives lease timing; nil means the system clock.
	Clock Clock
	// Logf receives diagnostics; nil discards them.
	Logf func(format string, args ...any)
}

// Errors.
var (
	ErrNoPort         = errors.New("portmap: local address has no port")
	ErrClosed         = errors.New("portmap: mapper closed")
	ErrInert          = errors.New("portmap: mapper is inert (disabled, loopback or IPv6-only socket)")
	ErrNoMapping      = errors.New("portmap: no protocol gave a mapping")
	ErrBadExternal    = errors.New("portmap: gateway reported an unusable external address")
	ErrBadAnswer      = errors.New("portmap: gateway answer does not match the request")
	ErrTimeout        = errors.New("portmap: no answer from the gateway")
	ErrLifetimeTooLow = errors.New("portmap: granted lifetime too short")
)
