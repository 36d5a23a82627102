package irohtest

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/relay"
)

// n0Origin is the DNS origin iroh's n0 preset queries.
const n0Origin = "dns.iroh.link."

// TestIrohSpokeFindsGoHubByID: a Go hub homed at our relay publishes its
// relay URL to our pkarr API. A real iroh spoke with the n0 preset, given
// only the hub's EndpointId, must find it with a TXT query to our DNS
// server (the namespace's system resolver), reach it through our relay and
// get its envelopes echoed.
func TestIrohSpokeFindsGoHubByID(t *testing.T) {
	interop.RequireNetns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	relayURL := startRelay(t)
	ls, pkarrURL, dns := startLookupServer(t)

	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	hubEP, err := endpoint.Bind(ctx, endpoint.Options{
		SecretKey: key, BindAddr: "127.0.0.1:0", RelayURL: relayURL, ALPNs: []string{hub.ALPN},
		// Relay only, as iroh publishes by default: the spoke can reach us
		// only through what the lookup told it.
		Publisher: &lookup.PkarrPublisher{BaseURL: pkarrURL, Key: key},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hubEP.Close() })
	if err := hubEP.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Options{})
	go h.Serve(ctx, hubEP)
	t.Cleanup(func() { h.Close() })
	waitPublished(t, ctx, ls, key.Public())

	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: key.Public().String(), Preset: "n0", Count: 3, Name: "byid",
		Timeout: 20 * time.Second, LogLevel: os.Getenv("IROHTEST_LOG"),
	})
	t.Logf("DNS queries seen:\n%s", dns)
	if err != nil {
		t.Fatalf("iroh spoke: %v\n%s", err, res.Stderr)
	}
	if res.Echoes != 3 || res.RemoteID != key.Public().String() {
		t.Fatalf("spoke result %+v", res)
	}

	want := lookup.DNSName(key.Public(), n0Origin)
	if !dns.answered(want, lookup.TypeTXT) {
		t.Fatalf("our DNS server never answered TXT %s", want)
	}
	if res.RemoteAddr == nil || res.RemoteAddr.RelayURL != relayURL+"/" {
		t.Fatalf("iroh's remote info for the hub is %+v, want relay %s/", res.RemoteAddr, relayURL)
	}
	if len(res.RemoteAddr.Addrs) != 0 {
		t.Fatalf("iroh knows direct addresses %v that nobody published", res.RemoteAddr.Addrs)
	}
	if !hasRelayPath(res.Paths) {
		t.Fatalf("no relay path in %+v", res.Paths)
	}
	if m := hubEP.Metrics(); m.ConnsRelay.Load() == 0 || m.SendIPv4.Load() != 0 {
		t.Fatalf("hub: conns_relay %d, udp sends %d; want a relay-only connection",
			m.ConnsRelay.Load(), m.SendIPv4.Load())
	}
}

func hasRelayPath(paths []interop.SpokePath) bool {
	for _, p := range paths {
		if p.IsRelay {
			return true
		}
	}
	return false
}

// startRelay runs our relay on loopback and returns its URL.
func startRelay(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := relay.NewServer(relay.ServerConfig{})
	go rs.Serve(l)
	t.Cleanup(func() { rs.Close() })
	return "http://" + l.Addr().String()
}

// startLookupServer runs our lookup server for n0's origin: the pkarr API
// on an ephemeral port and DNS on resolver:53, logging every query.
func startLookupServer(t *testing.T) (*lookup.Server, string, *dnsLog) {
	t.Helper()
	ls := lookup.NewServer(lookup.ServerOptions{Origin: n0Origin, PutBurst: -1})
	hs := httptest.NewServer(ls.Handler())
	t.Cleanup(hs.Close)
	pc, err := net.ListenPacket("udp", net.JoinHostPort(resolver, "53"))
	if err != nil {
		t.Fatalf("DNS on %s:53: %v", resolver, err)
	}
	dns := &dnsLog{PacketConn: pc}
	go ls.ServeDNS(dns)
	t.Cleanup(func() { pc.Close() })
	return ls, hs.URL + "/pkarr", dns
}

func waitPublished(t *testing.T, ctx context.Context, ls *lookup.Server, id identity.EndpointID) {
	t.Helper()
	for ls.Store().Get(id) == nil {
		select {
		case <-ctx.Done():
			t.Fatal("hub never published")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dnsLog is the DNS server's socket, recording each answer it sends.
type dnsLog struct {
	net.PacketConn
	mu      sync.Mutex
	answers []dnsAnswer
}

type dnsAnswer struct {
	name    string
	qtype   uint16
	rcode   int
	answers int
}

func (l *dnsLog) WriteTo(b []byte, addr net.Addr) (int, error) {
	if m, err := lookup.ParseMessage(b); err == nil && len(m.Questions) == 1 {
		q := m.Questions[0]
		l.mu.Lock()
		l.answers = append(l.answers, dnsAnswer{q.Name, q.Type, m.Rcode(), len(m.Answers)})
		l.mu.Unlock()
	}
	return l.PacketConn.WriteTo(b, addr)
}

// answered reports whether a successful, non-empty answer for name and
// type went out.
func (l *dnsLog) answered(name string, qtype uint16) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.answers {
		if strings.EqualFold(strings.TrimSuffix(a.name, "."), strings.TrimSuffix(name, ".")) &&
			a.qtype == qtype && a.rcode == lookup.RcodeSuccess && a.answers > 0 {
			return true
		}
	}
	return false
}

func (l *dnsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, a := range l.answers {
		fmt.Fprintf(&b, "  %s type %d: rcode %d, %d answers\n", a.name, a.qtype, a.rcode, a.answers)
	}
	return b.String()
}
