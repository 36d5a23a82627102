//go:build linux

package inetlab_test

import (
	"net/http"
	"testing"

	"github.com/alkdev/irohspoke/interop/inetlab"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

// TestZeroFlagsBothBehindNATs (scenario 1): "irohspoke hub" and
// "irohspoke dial --hub ID" with no relay or lookup flags, behind two
// endpoint-independent NATs, in a lab that serves n0's names. The hub
// picks a home relay, publishes it to https://dns.iroh.link/pkarr; the
// spoke finds it with a DNS TXT query, connects through that relay, moves
// to a direct path once QAD taught both sides their public mappings, and
// every envelope is echoed, before and after the move.
func TestZeroFlagsBothBehindNATs(t *testing.T) {
	lab := inetlab.New(t, inetlab.Spec{Homes: []inetlab.HomeSpec{
		{Name: "a", NAT: natlab.EndpointIndependent},
		{Name: "b", NAT: natlab.EndpointIndependent},
	}})
	ctx := stepCtx(t)
	hub := lab.StartHub(t, lab.Home("a").Host, nil)
	id := mustID(t, hub.EndpointID)
	if lab.Relay(relayHostOf(hub.RelayURL)) == nil {
		t.Fatalf("hub's home relay %q is not one of n0's\n%s", hub.RelayURL, hub.Stderr())
	}
	info, err := lab.DNS.WaitPublished(ctx, inetlab.ProdOrigin, id)
	if err != nil {
		t.Fatalf("%v\nhub stderr:\n%s", err, hub.Stderr())
	}
	published := hubSince(hub)
	if len(info.Relays) != 1 || !sameRelay(info.Relays[0], hub.RelayURL) || len(info.Addrs) != 0 {
		t.Fatalf("published %+v, want only the home relay %s (iroh publishes no addresses)", info, hub.RelayURL)
	}

	d := lab.StartDial(t, lab.Home("b").Host, nil, "--hub", hub.EndpointID, "--linger", "300ms")
	connected, err := d.WaitEvent(ctx, "connected", "")
	if err != nil {
		t.Fatal(err)
	}
	if connected.Path != "relay" {
		t.Fatalf("first path %q, want relay (the hub published only its relay)\n%s", connected.Path, d.Stderr())
	}
	echoRound(ctx, t, d, ids("zero", 0, 3))
	direct, err := d.WaitEvent(ctx, "path_changed", "direct")
	if err != nil {
		t.Fatal(err)
	}
	echoRound(ctx, t, d, ids("zero", 3, 3))
	if err := d.Finish(ctx); err != nil {
		t.Fatalf("%v\n%s", err, d.Stderr())
	}

	txt := lookup.DNSName(id, inetlab.ProdOrigin)
	if n := lab.DNS.Front.Count(txt); n == 0 {
		t.Fatalf("no DNS query for %s; queries: %v", txt, lab.DNS.Front.Queries())
	}
	if n := lab.DNS.Pkarr.Count(inetlab.ProdOrigin, http.MethodPut); n == 0 {
		t.Fatalf("the hub never PUT to %s: %v", inetlab.PkarrURL(inetlab.ProdOrigin), lab.DNS.Pkarr.Requests())
	}
	t.Logf("hub: ready %v after start, record at the pkarr relay %v after start (home relay %s)",
		hub.Ready, published, hub.RelayURL)
	t.Logf("dial: connected over the relay %v after start, direct %v after start (%v after connecting)",
		connected.At, direct.At, direct.At-connected.At)
}
