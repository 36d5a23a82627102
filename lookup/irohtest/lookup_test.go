package irohtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/lookuptest"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/relay"
)

// n0Origin is the DNS origin iroh's n0 preset queries.
const n0Origin = "dns.iroh.link."

// n0Env keeps iroh on its production origin: a non-empty
// IROH_FORCE_STAGING_RELAYS would switch it to staging-dns.iroh.link.
var n0Env = []string{"IROH_FORCE_STAGING_RELAYS="}

// TestIrohSpokeFindsGoHubByID: a Go hub homed at our relay publishes to
// our pkarr API. A real iroh spoke with the n0 preset, given only the hub's
// EndpointId, must find it with a TXT query to our DNS server (the
// namespace's system resolver) and get its envelopes echoed: through our
// relay when the hub publishes its relay only (iroh's default), and with
// the published direct address known to iroh when it publishes that too.
func TestIrohSpokeFindsGoHubByID(t *testing.T) {
	interop.RequireNetns(t)
	relayURL := startRelay(t)
	ls, pkarrURL, dns := startLookupServer(t)
	for _, tc := range []struct {
		name         string
		publishAddrs bool
	}{
		{"relay only", false},
		{"relay and addr", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
			defer cancel()
			key, err := identity.GenerateSecretKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			onPublish, published := lookuptest.OnPublished()
			hubEP := startHub(t, ctx, endpoint.Options{
				// Multipath off: the test checks iroh found and used the
				// relay path it learned from our DNS.
				SecretKey: key, RelayURL: relayURL, DisableMultipath: true,
				Publisher: &lookup.PkarrPublisher{BaseURL: pkarrURL, Key: key, OnPublish: onPublish}, PublishAddrs: tc.publishAddrs,
			})
			lookuptest.WaitPublished(t, ctx, published, ls, key.Public())

			res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
				ID: key.Public().String(), Preset: "n0", Count: 3, Name: "byid",
				Timeout: 20 * time.Second, LogLevel: os.Getenv("IROHTEST_LOG"), ExtraEnv: n0Env,
			})
			t.Logf("DNS answers so far:\n%s", dns)
			if err != nil {
				t.Fatalf("iroh spoke: %v\n%s", err, res.Stderr)
			}
			if res.Echoes != 3 || res.RemoteID != key.Public().String() {
				t.Fatalf("spoke result %+v", res)
			}
			want := lookup.DNSName(key.Public(), n0Origin)
			if got := dns.find(want, lookup.TypeTXT); got == nil || got.rcode != lookup.RcodeSuccess || got.answers == 0 {
				t.Fatalf("our DNS server did not answer TXT %s with records: %+v", want, got)
			}
			// iroh's remote info: what its lookup found (it knows nothing
			// else about the hub).
			ri := res.RemoteAddr
			if ri == nil || ri.RelayURL != relayURL+"/" {
				t.Fatalf("iroh's remote info for the hub is %+v, want relay %s/", ri, relayURL)
			}
			if tc.publishAddrs {
				if !slices.Contains(ri.Addrs, hubEP.LocalAddr().String()) {
					t.Fatalf("iroh knows addrs %v, want the published %s", ri.Addrs, hubEP.LocalAddr())
				}
				return
			}
			if len(ri.Addrs) != 0 {
				t.Fatalf("iroh knows direct addresses %v that nobody published", ri.Addrs)
			}
			if !hasRelayPath(res.Paths) {
				t.Fatalf("no relay path in %+v", res.Paths)
			}
			if m := hubEP.Metrics(); m.ConnsRelay.Load() == 0 || m.SendIPv4.Load() != 0 {
				t.Fatalf("hub: conns_relay %d, udp sends %d; want a relay-only connection",
					m.ConnsRelay.Load(), m.SendIPv4.Load())
			}
		})
	}
}

// TestIrohSpokeUnknownIDFails: for an id nobody published, our server
// says NXDOMAIN and the iroh spoke gives up instead of hanging.
func TestIrohSpokeUnknownIDFails(t *testing.T) {
	interop.RequireNetns(t)
	_, _, dns := startLookupServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: key.Public().String(), Preset: "n0", Count: 1, Timeout: 15 * time.Second, ExtraEnv: n0Env,
	})
	if !errors.Is(err, interop.ErrSpokeFailed) || res.Error == nil {
		t.Fatalf("spoke to an unpublished id: %+v, %v", res, err)
	}
	why, _, _ := strings.Cut(*res.Error, "Stack backtrace")
	t.Logf("iroh gave up after %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(why))
	want := lookup.DNSName(key.Public(), n0Origin)
	if got := dns.findComplete(want, lookup.TypeTXT); got == nil || got.rcode != lookup.RcodeNXDomain {
		t.Fatalf("TXT %s: %+v, want NXDOMAIN\n%s", want, got, dns)
	}
}

// startHub binds a Go hub endpoint on loopback, waits until it is online
// at its relay and serves alkpubsub on it until the test ends.
func startHub(t *testing.T, ctx context.Context, opts endpoint.Options) *endpoint.Endpoint {
	t.Helper()
	opts.BindAddr, opts.ALPNs = "127.0.0.1:0", []string{hub.ALPN}
	ep, err := endpoint.Bind(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	if err := ep.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Options{})
	go h.Serve(context.Background(), ep)
	t.Cleanup(func() { h.Close() })
	return ep
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
// on an ephemeral port and DNS on resolver:53 over UDP and TCP, logging
// every UDP answer and counting TCP clients.
func startLookupServer(t *testing.T) (*lookup.Server, string, *dnsLog) {
	t.Helper()
	ls := lookup.NewServer(lookup.ServerOptions{Origin: n0Origin, PutBurst: -1})
	hs := httptest.NewServer(ls.Handler())
	t.Cleanup(hs.Close)
	dnsAddr := net.JoinHostPort(resolver, "53")
	pc, err := net.ListenPacket("udp", dnsAddr)
	if err != nil {
		t.Fatalf("DNS on %s: %v", dnsAddr, err)
	}
	tl, err := net.Listen("tcp", dnsAddr)
	if err != nil {
		pc.Close()
		t.Fatalf("DNS over TCP on %s: %v", dnsAddr, err)
	}
	dns := &dnsLog{PacketConn: pc}
	go ls.ServeDNS(dns)
	go ls.ServeDNSTCP(&countingListener{Listener: tl, n: &dns.tcpConns})
	t.Cleanup(func() { pc.Close(); tl.Close() })
	return ls, hs.URL + "/pkarr", dns
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// dnsLog is the DNS server's socket, recording each answer it sends.
type dnsLog struct {
	net.PacketConn
	tcpConns atomic.Int64
	mu       sync.Mutex
	answers  []dnsAnswer
}

type dnsAnswer struct {
	name      string
	qtype     uint16
	rcode     int
	answers   int
	truncated bool
}

func (l *dnsLog) WriteTo(b []byte, addr net.Addr) (int, error) {
	if m, err := lookup.ParseMessage(b); err == nil && len(m.Questions) == 1 {
		q := m.Questions[0]
		l.mu.Lock()
		l.answers = append(l.answers, dnsAnswer{q.Name, q.Type, m.Rcode(), len(m.Answers), m.Flags&lookup.FlagTruncated != 0})
		l.mu.Unlock()
	}
	return l.PacketConn.WriteTo(b, addr)
}

// find returns the last answer sent for name and type, or nil.
func (l *dnsLog) find(name string, qtype uint16) *dnsAnswer {
	return l.findLast(name, qtype, func(dnsAnswer) bool { return true })
}

// findComplete is find among the answers that were not truncated (a
// truncated one only sends the client to TCP, e.g. under the rate limit).
func (l *dnsLog) findComplete(name string, qtype uint16) *dnsAnswer {
	return l.findLast(name, qtype, func(a dnsAnswer) bool { return !a.truncated })
}

func (l *dnsLog) findLast(name string, qtype uint16, ok func(dnsAnswer) bool) *dnsAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.answers) - 1; i >= 0; i-- {
		a := l.answers[i]
		if strings.EqualFold(strings.TrimSuffix(a.name, "."), strings.TrimSuffix(name, ".")) && a.qtype == qtype && ok(a) {
			return &a
		}
	}
	return nil
}

func (l *dnsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, a := range l.answers {
		fmt.Fprintf(&b, "  %s type %d: rcode %d, %d answers, truncated %v\n", a.name, a.qtype, a.rcode, a.answers, a.truncated)
	}
	return b.String()
}
