//go:build linux

package inetlab_test

import (
	"net/netip"
	"testing"

	"github.com/alkdev/irohspoke/interop/inetlab"
	"github.com/alkdev/irohspoke/interop/natlab"
)

// TestMinimalPresetTouchesNothing (scenario 3): a hub and a spoke with
// --preset minimal exchange envelopes over a direct address, and the
// lab's servers saw nothing from them: no DNS query (front log and the
// DNS host's port 53 counters), no pkarr request, no connection or QAD
// datagram at any relay.
func TestMinimalPresetTouchesNothing(t *testing.T) {
	lab := inetlab.New(t, inetlab.Spec{
		Public: []string{"hub"},
		Homes:  []inetlab.HomeSpec{{Name: "b", NAT: natlab.EndpointIndependent}},
	})
	ctx := stepCtx(t)
	hubHost := lab.MustHost(t, "hub")
	hub := lab.StartHub(t, hubHost, nil, "--preset", "minimal")
	if hub.RelayURL != "" {
		t.Fatalf("minimal hub has home relay %q", hub.RelayURL)
	}
	var addr netip.AddrPort
	for _, a := range hub.Addrs {
		if ap, err := netip.ParseAddrPort(a); err == nil && ap.Addr() == hubHost.Addr() {
			addr = ap
		}
	}
	if !addr.IsValid() {
		t.Fatalf("hub addresses %v lack %v", hub.Addrs, hubHost.Addr())
	}
	res := lab.RunDial(ctx, t, lab.Home("b").Host, nil, ids("minimal", 0, 3),
		"--preset", "minimal", "--hub", hub.EndpointID, "--addr", addr.String(), "--linger", "200ms")
	if res.Err != nil || len(res.Stdout) != 3 {
		t.Fatalf("dial: %v, %d echoes\n%s", res.Err, len(res.Stdout), res.Stderr)
	}

	if q := lab.DNS.Front.Queries(); len(q) != 0 {
		t.Errorf("DNS queries with --preset minimal: %v", q)
	}
	if r := lab.DNS.Pkarr.Requests(); len(r) != 0 {
		t.Errorf("pkarr requests with --preset minimal: %v", r)
	}
	dc, err := lab.DNS.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dc.Total() != 0 {
		t.Errorf("DNS host counters: %v", dc)
	}
	for _, r := range lab.Relays() {
		c, err := r.Counters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Total() != 0 {
			t.Errorf("relay %s counters: %v", r.Name, c)
		}
	}
	t.Logf("minimal: 3 echoes over %s in %v; DNS host %v, pkarr requests 0, relays untouched", addr, res.Took, dc)
}
