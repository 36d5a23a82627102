package irohtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/lookuptest"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/lookup"
)

// TestSystemResolverInNamespace: SystemDNSResolver reads the namespace's
// own resolv.conf (bind-mounted by ip netns exec), so it asks our server
// on resolver:53 and finds what a relay-only PkarrPublisher published; an
// unknown id fails once, naming the zone.
func TestSystemResolverInNamespace(t *testing.T) {
	interop.RequireNetns(t)
	ls, pkarrURL, _ := startLookupServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	onPublish, published := lookuptest.OnPublished()
	pub := &lookup.PkarrPublisher{BaseURL: pkarrURL, Key: key, OnPublish: onPublish}
	defer pub.Close()
	const relayURL = "https://relay.example/"
	pub.UpdateAddrs(relayURL, nil)
	lookuptest.WaitPublished(t, ctx, published, ls, key.Public())

	r, err := lookup.SystemDNSResolver(n0Origin)
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.Resolve(ctx, key.Public())
	if err != nil || len(info.Relays) != 1 || info.Relays[0] != relayURL {
		t.Fatalf("system resolver: %+v %v", info, err)
	}
	unknown, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(ctx, unknown.Public())
	hint := "no _iroh TXT record for " + unknown.Public().ZBase32() + " under " + n0Origin
	if !errors.Is(err, lookup.ErrNotFound) || strings.Count(err.Error(), hint) != 1 {
		t.Fatalf("unknown id: %v", err)
	}
}
