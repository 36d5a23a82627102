package lookup

import (
	"os"

	"github.com/alkdev/irohspoke/identity"
)

// number 0's lookup service, which iroh's presets::N0 uses
// (iroh-dns/src/dns.rs, iroh/src/address_lookup/pkarr.rs at v1.0.2).
const (
	N0DNSOrigin        = "dns.iroh.link."
	N0DNSOriginStaging = "staging-dns.iroh.link."
	N0PkarrURL         = "https://dns.iroh.link/pkarr"
	N0PkarrURLStaging  = "https://staging-dns.iroh.link/pkarr"
	// EnvForceStaging, when non-empty, switches iroh (and the N0
	// helpers here) to the staging service.
	EnvForceStaging = "IROH_FORCE_STAGING_RELAYS"
)

// n0Staging reports whether EnvForceStaging asks for staging.
func n0Staging() bool { return os.Getenv(EnvForceStaging) != "" }

// N0Resolver resolves as presets::N0 does outside browsers: DNS only (no
// pkarr resolver), through the system's nameservers (SystemDNSResolver),
// under N0DNSOrigin, or N0DNSOriginStaging with EnvForceStaging set.
func N0Resolver() *DNSResolver {
	origin := N0DNSOrigin
	if n0Staging() {
		origin = N0DNSOriginStaging
	}
	return systemResolver(origin)
}

// N0Publisher publishes key's endpoint as presets::N0 does: to
// N0PkarrURL (N0PkarrURLStaging with EnvForceStaging set), relay URL
// only, TTL 30 s, republished every 5 minutes. Feed it UpdateAddrs.
func N0Publisher(key identity.SecretKey) *PkarrPublisher {
	url := N0PkarrURL
	if n0Staging() {
		url = N0PkarrURLStaging
	}
	return &PkarrPublisher{BaseURL: url, Key: key}
}
