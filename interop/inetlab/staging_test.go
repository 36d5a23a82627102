//go:build linux

package inetlab_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/alkdev/irohspoke/interop/inetlab"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

// TestStagingSwitch (scenario 4): with IROH_FORCE_STAGING_RELAYS=1 a
// zero-flag hub homes at a staging relay and publishes to
// https://staging-dns.iroh.link/pkarr, and a zero-flag spoke finds it
// under the staging origin. Nothing touches the production names: no DNS
// query for them, no pkarr request, no connection or QAD datagram at a
// production relay.
func TestStagingSwitch(t *testing.T) {
	var relays []inetlab.RelaySpec
	for _, n := range append(append([]string(nil), inetlab.ProdRelays...), inetlab.StagingRelays...) {
		relays = append(relays, inetlab.RelaySpec{Name: n})
	}
	lab := inetlab.New(t, inetlab.Spec{
		Relays: relays,
		Homes: []inetlab.HomeSpec{
			{Name: "a", NAT: natlab.EndpointIndependent},
			{Name: "b", NAT: natlab.EndpointIndependent},
		},
	})
	staging := []string{inetlab.EnvForceStaging + "=1"}
	ctx := stepCtx(t)
	hub := lab.StartHub(t, lab.Home("a").Host, staging)
	home := lab.Relay(relayHostOf(hub.RelayURL))
	if home == nil || !isStaging(home.Name) {
		t.Fatalf("staging hub's home relay %q\n%s", hub.RelayURL, hub.Stderr())
	}
	id := mustID(t, hub.EndpointID)
	if _, err := lab.DNS.WaitPublished(ctx, inetlab.StagingOrigin, id); err != nil {
		t.Fatal(err)
	}
	res := lab.RunDial(ctx, t, lab.Home("b").Host, staging, ids("staging", 0, 3), "--hub", hub.EndpointID, "--linger", "200ms")
	if res.Err != nil || len(res.Stdout) != 3 {
		t.Fatalf("dial: %v, %d echoes\n%s", res.Err, len(res.Stdout), res.Stderr)
	}

	if _, err := lab.DNS.Published(ctx, inetlab.ProdOrigin, id); !errors.Is(err, lookup.ErrNotFound) {
		t.Errorf("the staging hub is at the production lookup server too (%v)", err)
	}
	if n := lab.DNS.Front.Count(lookup.DNSName(id, inetlab.StagingOrigin)); n == 0 {
		t.Errorf("no staging TXT query: %v", lab.DNS.Front.Queries())
	}
	if n := lab.DNS.Front.Count(inetlab.ProdOrigin); n != 0 {
		t.Errorf("%d queries under the production origin", n)
	}
	if n := lab.DNS.Pkarr.Count(inetlab.ProdOrigin, ""); n != 0 || lab.DNS.Pkarr.Count(inetlab.StagingOrigin, http.MethodPut) == 0 {
		t.Errorf("pkarr requests: %v", lab.DNS.Pkarr.Requests())
	}
	used := map[string]string{}
	for _, r := range lab.Relays() {
		c, err := r.Counters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if q := lab.DNS.Front.Count(r.Name); !isStaging(r.Name) && (q != 0 || c.Total() != 0) {
			t.Errorf("production relay %s: %d DNS queries, counters %v", r.Name, q, c)
		}
		used[r.Name] = c.String()
	}
	t.Logf("staging: home %s; relay counters %v", home.Name, used)
}

func isStaging(name string) bool {
	for _, s := range inetlab.StagingRelays {
		if s == name {
			return true
		}
	}
	return false
}
