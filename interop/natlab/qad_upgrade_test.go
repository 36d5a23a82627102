//go:build linux

package natlab_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/quic/qadtest"
)

// relayHost is the relay's host name in the QAD labs: its public IP, which
// the test certificate names.
const relayHost = "198.51.100.10"

// qadLab is a relay on the public segment, hosts a and b behind
// endpoint-independent NATs and host c behind a random-port NAT.
func qadLab(t *testing.T) *natlab.Lab {
	t.Helper()
	return natlab.New(t, natlab.Spec{
		NATs: []natlab.NATSpec{
			{Name: "a", Kind: natlab.EndpointIndependent},
			{Name: "b", Kind: natlab.EndpointIndependent},
			{Name: "c", Kind: natlab.RandomPort},
		},
		Public: []string{"relay"},
	})
}

// relayCert writes a test-CA certificate for the relay (cert and key PEM)
// and the CA file peers pass as --relay-ca. The CA file holds the chain's
// intermediate: Go accepts any pool certificate as a trust anchor.
func relayCert(t *testing.T, ca *qadtest.CA) (certFile, keyFile, caFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, err := ca.WritePEM(dir, relayHost)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	_, rest := pem.Decode(chain)
	inter, _ := pem.Decode(rest)
	if inter == nil {
		t.Fatal("no intermediate in the test chain")
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(inter), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, caFile
}

// hubPublicAddr waits for the hub's log line with the public address its
// QAD learned.
func hubPublicAddr(t *testing.T, hub *natlab.GoHub) netip.AddrPort {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(hub.Stderr(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "endpoint: public address" {
				ap, err := netip.ParseAddrPort(rec.Addr)
				if err != nil {
					t.Fatalf("hub public address %q: %v", rec.Addr, err)
				}
				return ap
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the hub never learned its public address:\n%s", hub.Stderr())
	return netip.AddrPort{}
}

// dialPublicAddr is the address in the dial's public_addr status line.
func dialPublicAddr(t *testing.T, stderr string) netip.AddrPort {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		var st struct{ Event, Addr string }
		if json.Unmarshal([]byte(l), &st) == nil && st.Event == "public_addr" {
			ap, err := netip.ParseAddrPort(st.Addr)
			if err != nil {
				t.Fatalf("public_addr %q: %v", st.Addr, err)
			}
			return ap
		}
	}
	t.Fatalf("dial reported no public_addr:\n%s", stderr)
	return netip.AddrPort{}
}

// TestUpgradeBothBehindEIMNATs: our relay (TLS from a test CA, QAD on
// UDP 7842) on the public segment; our hub behind endpoint-independent
// NAT a and our spoke behind endpoint-independent NAT b, both with --qad.
// Each learns its public mapping from the relay and offers it: the hub
// announces it, the spoke sends it in its hole-punching round. The
// connection starts on the relay, moves to a direct path between the two
// public mappings, and echoes go on after the relay is stopped.
func TestUpgradeBothBehindEIMNATs(t *testing.T) {
	lab := qadLab(t)
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, caFile := relayCert(t, ca)
	relayURL, _, relay := lab.MustHost(t, "relay").StartTLSRelay(t, certFile, keyFile)
	if !strings.HasPrefix(relayURL, "https://"+relayHost+":") {
		t.Fatalf("relay URL %q", relayURL)
	}
	a, b := lab.NAT("a"), lab.NAT("b")
	hub := a.Host.StartGoHubWith(t, relayURL, "--qad", "--relay-ca", caFile)
	hubPub := hubPublicAddr(t, hub)
	if hubPub.Addr() != a.PublicAddr() {
		t.Fatalf("hub learned %v, want an address of NAT a (%v)", hubPub, a.PublicAddr())
	}
	p, d := dialUpgradesWith(t, b.Host, relay, "--hub", hub.EndpointID, "--relay", relayURL, "--qad", "--relay-ca", caFile)
	if pub := dialPublicAddr(t, p.Stderr()); pub.Addr() != b.PublicAddr() {
		t.Fatalf("spoke learned %v, want an address of NAT b (%v)", pub, b.PublicAddr())
	}
	sel := hubPathSelected(t, hub)
	if ap, err := netip.ParseAddrPort(sel.Addr); err != nil || ap.Addr() != b.PublicAddr() {
		t.Fatalf("hub's direct path %q is not to NAT b's public address %v", sel.Addr, b.PublicAddr())
	}
	t.Logf("hub public %v; time to direct (connected → path_changed): %v; hub selected %s after %v", hubPub, d, sel.Addr, sel.SinceConnect)
}

// TestNoUpgradeRandomPortNATWithQAD: as above, but the spoke behind the
// random-port NAT c. Its QAD answer is the mapping toward the relay's QAD
// port; toward the hub the NAT picks another port, and the hub's probes
// to the reported one are dropped. Our hub's filter drops the spoke's
// probes from that unknown port as well. The connection stays on the
// relay (the documented limit of hole punching through symmetric NATs).
func TestNoUpgradeRandomPortNATWithQAD(t *testing.T) {
	lab := qadLab(t)
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, caFile := relayCert(t, ca)
	relayURL, _, _ := lab.MustHost(t, "relay").StartTLSRelay(t, certFile, keyFile)
	hub := lab.NAT("a").Host.StartGoHubWith(t, relayURL, "--qad", "--relay-ca", caFile)
	hubPublicAddr(t, hub)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	stdin, echoes := envelopes("symmetric", 3)
	// Linger past the first hole-punching rounds (each ~4 s of probes).
	c := lab.NAT("c")
	res := c.Host.Dial(ctx, t, stdin, "--hub", hub.EndpointID, "--relay", relayURL, "--qad", "--relay-ca", caFile, "--linger", "6s", "--no-reconnect")
	checkDial(t, res, echoes, "relay")
	if pub := dialPublicAddr(t, res.Stderr); pub.Addr() != c.PublicAddr() {
		t.Fatalf("spoke learned %v, want an address of NAT c (%v)", pub, c.PublicAddr())
	}
	if strings.Contains(res.Stderr, "path_changed") {
		t.Fatalf("path changed through a random-port NAT:\n%s", res.Stderr)
	}
}

// startLabQAD serves QAD with a test-CA certificate for relayHost on the
// relay host's UDP port 7842 from the test process, next to a plain-HTTP
// "irohspoke relay" (which real iroh can use: it trusts only its built-in
// roots, so it could not log in to a relay with a test-CA certificate).
func startLabQAD(t *testing.T, relay *natlab.Host, ca *qadtest.CA) {
	t.Helper()
	chain, key, err := ca.Issue(relayHost)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := relay.ListenUDP(quic.DefaultQADPort)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := quic.ListenAddressDiscovery(quic.NewUDPTransport(sc), quic.AddressDiscoveryServer{Certificate: chain, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
}

// TestQADGoSpokeToIrohHubBothBehindNATs: a real iroh hub behind
// endpoint-independent NAT a, our spoke behind endpoint-independent NAT b
// with --qad (given explicitly, it asks the plain-HTTP relay's host, where
// startLabQAD serves QAD). iroh cannot do QAD against our relay (its relay config has
// no QUIC port for a custom relay, and it trusts only its built-in roots),
// so it announces only its private address. Our spoke knows its public
// mapping and sends it in REACH_OUT, and iroh does probe it: router b
// counts packets from NAT a's public address arriving at its own WAN
// address. But our spoke has nothing to probe except iroh's private
// address, so b's NAT never gets a mapping toward iroh's public port and
// drops iroh's probes: the connection stays on the relay. A direct path
// needs both sides to know their public address (iroh would need QAD
// against a relay it trusts with a QUIC port configured).
func TestQADGoSpokeToIrohHubBothBehindNATs(t *testing.T) {
	lab := qadLab(t)
	ca, err := qadtest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	_, _, caFile := relayCert(t, ca)
	relay := lab.MustHost(t, "relay")
	relayURL, _ := relay.StartRelay(t)
	startLabQAD(t, relay, ca)
	a, b := lab.NAT("a"), lab.NAT("b")
	hub := startIrohHub(t, a.Host, relayURL)
	for _, ap := range hub.Addrs {
		if ap.Addr() == a.PublicAddr() {
			t.Fatalf("iroh hub knows its public address %v: the premise (no QAD for iroh) does not hold", ap)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	// Count what reaches router b's own WAN address from NAT a: unanswered
	// probes (the input chain drops them).
	counter := []string{"insert", "rule", "ip", "natlab", "input", "ip", "saddr", a.PublicAddr().String(), "counter"}
	if out, err := b.Router.Exec(ctx, "nft", counter...); err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	p := b.Host.Start(t, natlab.Irohspoke(t), "dial", "--hub", hub.EndpointID, "--relay", relayURL,
		"--qad", "--relay-ca", caFile, "--linger", "500ms", "--no-reconnect")
	statusLine(ctx, t, p, "connected", "relay")
	echo(ctx, t, p, "irohqad", 0)
	// A round's probes run about 4 s; wait out the first rounds of both.
	time.Sleep(6 * time.Second)
	echo(ctx, t, p, "irohqad", 1)
	p.Stdin.Close()
	if err := p.Stop(); err != nil {
		t.Fatalf("%v\n%s", err, p.Stderr())
	}
	pub := dialPublicAddr(t, p.Stderr())
	if pub.Addr() != b.PublicAddr() {
		t.Fatalf("spoke learned %v, want an address of NAT b (%v)", pub, b.PublicAddr())
	}
	if strings.Contains(p.Stderr(), "path_changed") {
		t.Fatalf("unexpected upgrade (the finding changed; update this test):\n%s", p.Stderr())
	}
	out, err := b.Router.Exec(ctx, "nft", "list", "chain", "ip", "natlab", "input")
	if err != nil {
		t.Fatalf("nft: %v\n%s", err, out)
	}
	probes := dropCount(t, string(out))
	if probes == 0 {
		t.Fatalf("no iroh probe reached our public mapping %v:\n%s", pub, out)
	}
	t.Logf("spoke public %v; iroh (private candidates %v) sent %d probes to it, dropped by NAT b; stays on the relay", pub, hub.Addrs, probes)
}

// dropCount is the packet count of the counter rule in an "nft list
// chain" output.
func dropCount(t *testing.T, listing string) int {
	t.Helper()
	_, rest, ok := strings.Cut(listing, "counter packets ")
	if !ok {
		t.Fatalf("no counter in:\n%s", listing)
	}
	n, err := strconv.Atoi(strings.Fields(rest)[0])
	if err != nil {
		t.Fatalf("counter in %q: %v", listing, err)
	}
	return n
}
