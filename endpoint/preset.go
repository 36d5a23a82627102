package endpoint

import (
	"fmt"
	"os"
	"unicode/utf8"
)

// StagingEnv is iroh's switch to n0's staging infrastructure: when it is
// set to any non-empty value (even "0" or "false"), N0 returns
// N0Staging's values.
const StagingEnv = "IROH_FORCE_STAGING_RELAYS"

// n0's infrastructure as iroh 1.0.2 configures it. The relay URLs are
// iroh's serialised form: the hostname keeps its trailing dot (an
// absolute DNS name) and gets the root path.
const (
	n0PkarrURL          = "https://dns.iroh.link/pkarr"
	n0DNSOrigin         = "dns.iroh.link."
	n0StagingPkarrURL   = "https://staging-dns.iroh.link/pkarr"
	n0StagingDNSOrigin  = "staging-dns.iroh.link."
	n0RelayQADPort      = 7842
	presetNameN0        = "n0"
	presetNameN0Staging = "n0-staging"
	presetNameMinimal   = "minimal"
)

// n0RelayURLs is the production relay map in iroh's order: NA east, NA
// west, EU, AP.
var n0RelayURLs = []string{
	"https://use1-1.relay.n0.iroh.link./",
	"https://usw1-1.relay.n0.iroh.link./",
	"https://euc1-1.relay.n0.iroh.link./",
	"https://aps1-1.relay.n0.iroh.link./",
}

// n0StagingRelayURLs is the staging relay map (NA east, EU).
var n0StagingRelayURLs = []string{
	"https://use1-1.staging-relay.n0.iroh.link./",
	"https://euc1-1.staging-relay.n0.iroh.link./",
}

// RelayNode is one relay of a relay map.
type RelayNode struct {
	// URL is the relay's URL (http, https, ws or wss).
	URL string
	// QADPort is the UDP port of the relay's QUIC Address Discovery
	// endpoint on the URL's host; 0 means the relay offers none. (iroh
	// reads 0 as 7842; here it switches QAD off for that relay, which is
	// what a test relay without QAD needs.)
	QADPort uint16
}

// Preset is a named bundle of defaults, as iroh's presets: which relays
// the endpoint chooses its home relay from, where it publishes its
// address and how it looks peers up. Edit a copy to change a part, e.g.
// p := N0(); p.Publish = false.
type Preset struct {
	// Name is informational: "n0", "n0-staging", "minimal" or your own.
	Name string
	// Relays is the relay map. With more than one relay the endpoint
	// measures their latency and makes the nearest its home relay (see
	// NetReport); with one, that one is home.
	Relays []RelayNode
	// PkarrURL is the pkarr relay Publish sends our address to.
	PkarrURL string
	// DNSOrigin is the zone of "_iroh.<z32>.<origin>" TXT lookups, done
	// through the system resolver; "" turns lookup off.
	DNSOrigin string
	// QAD turns on QUIC Address Discovery against the relays (latency
	// probes and our public address from the home relay).
	QAD bool
	// Publish turns on publishing our home relay URL to PkarrURL.
	Publish bool
	// DualStack binds "[::]:0" (IPv4 and IPv6) when Options.BindAddr is
	// empty, falling back to "0.0.0.0:0" where IPv6 is unavailable.
	DualStack bool
	// PortMapping asks the home gateway (PCP, NAT-PMP, UPnP IGD) to map
	// our UDP port and offers the mapped address as a candidate, as
	// iroh's portmapper does (see PortMap).
	PortMapping bool
}

// N0 is iroh's default preset (presets::N0): n0's relays with QAD, home
// relay by latency, a dual-stack socket, a port mapping at the home
// gateway (iroh's portmapper is on by default), our home relay URL published to
// n0's pkarr relay (no IP addresses, as iroh), and peers looked up by DNS
// under n0's origin. Native iroh resolves through DNS only; pkarr is used
// only to publish. When StagingEnv is set it returns N0Staging.
//
// This is what an endpoint that reaches hubs by EndpointId alone wants:
//
//	ep, err := endpoint.Bind(ctx, endpoint.Options{Preset: endpoint.N0()})
//	...
//	t, err := spoke.Dial(ctx, ep, identity.EndpointAddr{ID: hubID})
func N0() Preset {
	if forceStaging() {
		return N0Staging()
	}
	return n0Preset(presetNameN0, n0RelayURLs, n0PkarrURL, n0DNSOrigin)
}

// N0Staging is N0 with n0's staging relays, pkarr relay and DNS origin.
func N0Staging() Preset {
	return n0Preset(presetNameN0Staging, n0StagingRelayURLs, n0StagingPkarrURL, n0StagingDNSOrigin)
}

// Minimal is the zero Options' behaviour: no relay, no lookup, no
// publishing, no QAD, no port mapping, an IPv4 socket. Nothing leaves the machine unless
// the application asks for it.
func Minimal() Preset { return Preset{Name: presetNameMinimal} }

// PresetByName returns the preset called name: "n0" (N0, which honours
// StagingEnv), "n0-staging" or "minimal".
func PresetByName(name string) (Preset, error) {
	switch name {
	case presetNameN0:
		return N0(), nil
	case presetNameN0Staging:
		return N0Staging(), nil
	case presetNameMinimal:
		return Minimal(), nil
	}
	return Preset{}, fmt.Errorf("endpoint: unknown preset %q (want %s, %s or %s)",
		name, presetNameN0, presetNameN0Staging, presetNameMinimal)
}

func n0Preset(name string, urls []string, pkarr, origin string) Preset {
	p := Preset{Name: name, PkarrURL: pkarr, DNSOrigin: origin, QAD: true, Publish: true, DualStack: true, PortMapping: true}
	for _, u := range urls {
		p.Relays = append(p.Relays, RelayNode{URL: u, QADPort: n0RelayQADPort})
	}
	return p
}

// forceStaging is iroh's rule: set, valid text and non-empty.
func forceStaging() bool {
	v, ok := os.LookupEnv(StagingEnv)
	return ok && v != "" && utf8.ValidString(v)
}
