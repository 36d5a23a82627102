package lookup

import "testing"

// TestN0Helpers: production by default, staging when the environment asks
// for it, as iroh.
func TestN0Helpers(t *testing.T) {
	key := newKey(t)
	t.Setenv(EnvForceStaging, "")
	if r, p := N0Resolver(), N0Publisher(key); r.Origin != N0DNSOrigin || p.BaseURL != N0PkarrURL || p.PublishAddrs {
		t.Fatalf("production: %s %s addrs=%v", r.Origin, p.BaseURL, p.PublishAddrs)
	}
	t.Setenv(EnvForceStaging, "1")
	if r, p := N0Resolver(), N0Publisher(key); r.Origin != N0DNSOriginStaging || p.BaseURL != N0PkarrURLStaging {
		t.Fatalf("staging: %s %s", r.Origin, p.BaseURL)
	}
}
