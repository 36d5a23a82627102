//go:build linux

package inetlab

import (
	"slices"
	"strings"
)

// n0's infrastructure names (iroh 1.0.2 defaults), without trailing dots.
const (
	// ProdOrigin is the DNS zone of iroh's address lookup; the pkarr API
	// is https://ProdOrigin/pkarr.
	ProdOrigin = "dns.iroh.link"
	// StagingOrigin replaces ProdOrigin with IROH_FORCE_STAGING_RELAYS.
	StagingOrigin = "staging-dns.iroh.link"
	// EnvForceStaging switches iroh endpoints to the staging names.
	EnvForceStaging = "IROH_FORCE_STAGING_RELAYS"
)

// ProdRelays are n0's production relays, in iroh's relay map order.
var ProdRelays = []string{
	"use1-1.relay.n0.iroh.link",
	"usw1-1.relay.n0.iroh.link",
	"euc1-1.relay.n0.iroh.link",
	"aps1-1.relay.n0.iroh.link",
}

// StagingRelays are n0's staging relays.
var StagingRelays = []string{
	"use1-1.staging-relay.n0.iroh.link",
	"euc1-1.staging-relay.n0.iroh.link",
}

func isRelayName(name string) bool {
	return slices.Contains(ProdRelays, name) || slices.Contains(StagingRelays, name)
}

// RelayURL is the URL iroh builds for a relay name: https, the trailing
// dot kept, root path.
func RelayURL(name string) string {
	return "https://" + strings.TrimSuffix(name, ".") + "./"
}

// PkarrURL is the pkarr relay of a lookup origin.
func PkarrURL(origin string) string { return "https://" + origin + "/pkarr" }
