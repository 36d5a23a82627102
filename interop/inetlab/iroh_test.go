//go:build linux

package inetlab_test

import (
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/inetlab"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/lookup"
)

// irohEnv keeps real iroh on n0's production names whatever the test
// runner's environment says.
var irohEnv = []string{inetlab.EnvForceStaging + "="}

// irohLab has the plain-HTTP relay real iroh can use (it trusts only its
// built-in roots, so not the lab's HTTPS relays) and two homes.
func irohLab(t *testing.T) *inetlab.Lab {
	t.Helper()
	return inetlab.New(t, inetlab.Spec{
		PlainRelay: true,
		Homes: []inetlab.HomeSpec{
			{Name: "a", NAT: natlab.EndpointIndependent},
			{Name: "b", NAT: natlab.EndpointIndependent},
		},
	})
}

// TestIrohSpokeFindsGoHub (scenario 5): a Go hub homed at the plain
// relay (its only flag) publishes to https://dns.iroh.link/pkarr, as by
// default; a real iroh spoke with
// the n0 preset, given only the hub's id, resolves it through the
// namespace's resolver (the lab's DNS front, then our lookup server) and
// gets its envelopes echoed.
func TestIrohSpokeFindsGoHub(t *testing.T) {
	lab := irohLab(t)
	ctx := stepCtx(t)
	hub := lab.StartHub(t, lab.Home("a").Host, nil, "--relay", lab.PlainRelayURL())
	id := mustID(t, hub.EndpointID)
	info, err := lab.DNS.WaitPublished(ctx, inetlab.ProdOrigin, id)
	if err != nil {
		t.Fatalf("%v\n%s", err, hub.Stderr())
	}
	if !sameRelay(info.Relays[0], lab.PlainRelayURL()) {
		t.Fatalf("published %v, want %s", info.Relays, lab.PlainRelayURL())
	}
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: hub.EndpointID, Preset: "n0", Count: 3, Name: "irohbyid", Bind: "0.0.0.0:0",
		Timeout: 20 * time.Second, Netns: lab.Home("b").Host.Netns, ExtraEnv: irohEnv, LogLevel: os.Getenv("INETLAB_IROH_LOG"),
	})
	if err != nil {
		t.Fatalf("iroh spoke: %v\n%s", err, res.Stderr)
	}
	if res.Echoes != 3 || res.RemoteID != hub.EndpointID {
		t.Fatalf("iroh spoke result %+v", res)
	}
	if n := lab.DNS.Front.Count(lookup.DNSName(id, inetlab.ProdOrigin)); n == 0 {
		t.Fatalf("iroh did not ask the lab's DNS for the hub: %v", lab.DNS.Front.Queries())
	}
	t.Logf("real iroh spoke found the Go hub by id: connected in %.0f ms, paths %+v", deref(res.ConnectMs), res.Paths)
}

// TestGoSpokeFindsIrohHub (scenario 6): a real iroh hub homed at the
// plain relay. The Node binding publishes nowhere but n0's HTTPS pkarr
// relay (which it cannot verify in the lab), so the test publishes the
// hub's record with the hub's key, as iroh would: its relay URL only. A
// zero-flag Go spoke given only the id finds it and gets every envelope
// echoed.
func TestGoSpokeFindsIrohHub(t *testing.T) {
	lab := irohLab(t)
	ctx := stepCtx(t)
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	seed := key.Bytes()
	hub := interop.StartHub(t, interop.HubOptions{
		Netns: lab.Home("a").Host.Netns, Bind: "0.0.0.0:0", RelayURL: lab.PlainRelayURL(),
		SecretHex: hex.EncodeToString(seed[:]), ExtraEnv: irohEnv,
	})
	if hub.EndpointID != key.Public().String() || hub.RelayURL == "" {
		t.Fatalf("iroh hub id %s relay %q, want id %s online at the plain relay", hub.EndpointID, hub.RelayURL, key.Public())
	}
	if err := lab.DNS.Publish(ctx, inetlab.ProdOrigin, key, lookup.EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{hub.RelayURL}}}); err != nil {
		t.Fatal(err)
	}
	res := lab.RunDial(ctx, t, lab.Home("b").Host, nil, ids("goiroh", 0, 3), "--hub", hub.EndpointID, "--linger", "300ms")
	if res.Err != nil || len(res.Stdout) != 3 {
		t.Fatalf("dial: %v, %d echoes\n%s", res.Err, len(res.Stdout), res.Stderr)
	}
	if n := lab.DNS.Front.Count(lookup.DNSName(key.Public(), inetlab.ProdOrigin)); n == 0 {
		t.Fatalf("the Go spoke did not look the hub up by DNS: %v", lab.DNS.Front.Queries())
	}
	t.Logf("Go spoke found the real iroh hub by id: 3 echoes in %v; statuses %v", res.Took, statusEvents(res.Statuses))
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// statusEvents lists "event/path@time" of each status line.
func statusEvents(sts []inetlab.Status) []string {
	var out []string
	for _, st := range sts {
		s := st.Event
		if st.Path != "" {
			s += "/" + st.Path
		}
		out = append(out, s+"@"+st.At.Round(time.Millisecond).String())
	}
	return out
}
