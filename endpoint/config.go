package endpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/quic"
)

// setup is Options merged with their preset: what Bind builds.
type setup struct {
	bind      string // UDP IP:port
	dualStack bool   // fall back to IPv4 if bind fails
	relays    []RelayNode
	pinned    bool // Options.RelayURL: no selection, no failover
	qad       bool
	portMap   bool // Preset.PortMapping unless Options.DisablePortMapping
	netmon    bool // the endpoint runs its own network monitor
	resolver  lookup.Resolver
	publisher lookup.Publisher
}

// newSetup merges opts with opts.Preset. It does not start anything.
func newSetup(opts *Options) (*setup, error) {
	p := opts.Preset
	s := &setup{bind: opts.BindAddr, qad: p.QAD || opts.RelayQAD,
		portMap: p.PortMapping && !opts.DisablePortMapping, netmon: !opts.DisableNetworkMonitor}
	if s.bind == "" {
		s.bind = DefaultBindAddr
		if p.DualStack {
			s.bind, s.dualStack = DualStackBindAddr, true
		}
	}
	if _, err := netip.ParseAddrPort(s.bind); err != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadBindAddr, s.bind)
	}
	var err error
	if s.relays, err = normaliseRelays(p.Relays); err != nil {
		return nil, err
	}
	if opts.RelayURL != "" {
		home, err := identity.NormalizeRelayURL(opts.RelayURL)
		if err != nil {
			return nil, fmt.Errorf("endpoint: home relay: %w", err)
		}
		s.relays, s.pinned = []RelayNode{{URL: home, QADPort: pinnedQADPort(opts, home, s.relays)}}, true
	}
	if opts.RelayQAD && len(s.relays) == 0 {
		return nil, ErrQADNoRelay
	}
	if s.resolver, err = presetResolver(opts); err != nil {
		return nil, err
	}
	s.publisher = opts.Publisher
	if s.publisher == nil && p.Publish && p.PkarrURL != "" {
		s.publisher = &lookup.PkarrPublisher{BaseURL: p.PkarrURL, Key: opts.SecretKey, PublishAddrs: opts.PublishAddrs}
	}
	return s, nil
}

// presetResolver is Options.Lookup, else the preset's DNS lookup through
// the system's nameservers (lookup.SystemDNSResolver: iroh's staggered
// queries), else none.
func presetResolver(opts *Options) (lookup.Resolver, error) {
	origin := opts.Preset.DNSOrigin
	switch {
	case opts.Lookup != nil:
		return opts.Lookup, nil
	case origin == "":
		return nil, nil
	case opts.dnsNameserver != "":
		return lookup.NewDNSResolver(origin, opts.dnsNameserver)
	}
	r, err := lookup.SystemDNSResolver(origin)
	if err != nil {
		return nil, fmt.Errorf("endpoint: preset DNS origin: %w", err)
	}
	return r, nil
}

// normaliseRelays checks a relay map and puts its URLs in the form relay
// paths use.
func normaliseRelays(nodes []RelayNode) ([]RelayNode, error) {
	out := make([]RelayNode, 0, len(nodes))
	seen := make(map[string]bool)
	for _, n := range nodes {
		url, err := identity.NormalizeRelayURL(n.URL)
		if err != nil {
			return nil, fmt.Errorf("endpoint: preset relay: %w", err)
		}
		if !seen[url] {
			seen[url] = true
			out = append(out, RelayNode{URL: url, QADPort: n.QADPort})
		}
	}
	return out, nil
}

// pinnedQADPort is the QAD port of a pinned relay: RelayQADPort, else the
// preset's entry for the same relay, else iroh's default.
func pinnedQADPort(opts *Options, home string, presetRelays []RelayNode) uint16 {
	if opts.RelayQADPort != 0 {
		return opts.RelayQADPort
	}
	for _, n := range presetRelays {
		if n.URL == home && n.QADPort != 0 {
			return n.QADPort
		}
	}
	return quic.DefaultQADPort
}

// listenUDP opens the endpoint's socket. "udp" on [::] is dual-stack; an
// IPv4 address gets an IPv4-only socket (Go would otherwise make 0.0.0.0
// dual-stack too). A dual-stack bind that fails (no IPv6 in this kernel)
// falls back to IPv4 with the reason logged, as iroh does.
func listenUDP(s *setup, log *slog.Logger, listen func(network string, a *net.UDPAddr) (*net.UDPConn, error)) (*net.UDPConn, error) {
	udp, err := listenOn(s.bind, listen)
	if err != nil && s.dualStack {
		log.Warn("endpoint: no dual-stack socket, using IPv4 only", "bind", s.bind, "err", err)
		udp, err = listenOn(dualStackFallback, listen)
	}
	return udp, err
}

func listenOn(bind string, listen func(network string, a *net.UDPAddr) (*net.UDPConn, error)) (*net.UDPConn, error) {
	ap, err := netip.ParseAddrPort(bind)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadBindAddr, bind)
	}
	network := "udp"
	if ap.Addr().Is4() {
		network = "udp4"
	}
	udp, err := listen(network, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("endpoint: bind %s: %w", bind, err)
	}
	return udp, nil
}

// errNoLookup explains an address with nothing to dial.
var errNoLookup = errors.New("lookup is off (use the N0 preset or Options.Lookup)")
