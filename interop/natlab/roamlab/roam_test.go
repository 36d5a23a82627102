//go:build linux

package roamlab_test

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/natlab/roamlab"
)

// settleTime lets the stream run steadily between network changes.
const settleTime = 500 * time.Millisecond

// TestRoaming: a spoke ("irohspoke dial", multipath, its own network
// monitor) streams events to a hub on the public segment over a direct
// path while its network changes under it: it moves from NAT a
// (masquerade) to NAT b (masquerade fully-random), NAT b's conntrack is
// flushed (its mappings are gone; the spoke's next packet gets a new
// public port), and it moves from NAT b onto a public address of its
// own. Each move takes the old uplink away (down, address flushed) after
// the new one is up. The connection must survive all three with every
// event echoed exactly once; the recovery time is how long after the
// change the first echo of an event sent after it arrived. Against the
// Go hub, its log must show the data path moving to NAT b's and then to
// the public address.
func TestRoaming(t *testing.T) {
	for _, mode := range []struct {
		name  string
		flags []string
	}{{"multipath", nil}, {"single-path", []string{"--multipath=false"}}} {
		for _, hk := range hubKinds {
			t.Run(mode.name+"/"+hk.name, func(t *testing.T) {
				roam(t, hk.name, hk.start, mode.flags)
			})
		}
	}
}

// roam is one TestRoaming run: without multipath the connection keeps
// its one path; the spoke migrates actively to its new address (a fresh
// connection ID and a PATH_CHALLENGE, RFC 9000 §9.2) and the hub
// validates it.
func roam(t *testing.T, hubName string, startHub func(testing.TB, *natlab.Host, string) hub, extra []string) {
	{
		{
			lab := roamlab.New(t)
			relayURL, _ := lab.Public(t, "relay").StartRelay(t)
			h := startHub(t, lab.Public(t, "hub"), relayURL)
			a := lab.Router(t, "a", roamlab.RouterSpec{Kind: natlab.EndpointIndependent})
			b := lab.Router(t, "b", roamlab.RouterSpec{Kind: natlab.RandomPort})
			spoke := lab.Host(t, "spoke")
			viaA, viaB, public := lab.Attach(t, spoke, a), lab.Attach(t, spoke, b), lab.AttachPublic(t, spoke)
			if err := viaA.Up(); err != nil {
				t.Fatal(err)
			}
			s := dial(t, spoke, "roam", "direct", append([]string{"--hub", h.id, "--addr", h.addr.String(), "--relay", relayURL}, extra...)...)
			s.start()
			moveTo := func(to, from *roamlab.Link) func() error {
				return func() error {
					if err := to.Up(); err != nil {
						return err
					}
					return from.Down()
				}
			}
			changes := []struct {
				name string
				do   func() error
			}{
				{"NAT a -> NAT b", moveTo(viaB, viaA)},
				{"NAT b conntrack flushed", b.FlushConntrack},
				{"NAT b -> public", moveTo(public, viaB)},
			}
			var report []string
			for _, c := range changes {
				time.Sleep(settleTime)
				at := time.Now()
				if err := c.do(); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				d := s.recovered(at)
				report = append(report, c.name+": "+d.Round(time.Millisecond).String())
			}
			time.Sleep(settleTime)
			s.finish()
			t.Logf("%s %v, %d events, recovered after %s", hubName, extra, s.events(), strings.Join(report, ", "))
			if hubName == "go-hub" && len(extra) == 0 {
				requireSelected(t, h.log(), b.Addr(), public.Addr())
			}
		}
	}
}

// requireSelected checks that the Go hub's log shows the spoke's data
// path selected at one of addrs at least once (NAT b's public address or
// the spoke's own): the hub really moved off NAT a. A later move can be
// a validated migration of that same path, which selects no new path and
// logs nothing, so not every address must appear.
func requireSelected(t *testing.T, log string, addrs ...netip.Addr) {
	t.Helper()
	for _, l := range strings.Split(log, "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(l), &rec) != nil || rec.Msg != "endpoint: path selected" {
			continue
		}
		if ap, err := netip.ParseAddrPort(rec.Addr); err == nil && slices.Contains(addrs, ap.Addr()) {
			return
		}
	}
	t.Fatalf("the hub never selected a path from %v:\n%s", addrs, log)
}
