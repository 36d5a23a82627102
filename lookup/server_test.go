package lookup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

const testOrigin = "dns.test."

type testServer struct {
	srv     *Server
	http    *httptest.Server
	dnsAddr netip.AddrPort
	pkarr   string // pkarr base URL
}

// startServer runs a Server on loopback; dropFirst makes the DNS side
// ignore that many queries.
func startServer(t *testing.T, opts ServerOptions, dropFirst int32) *testServer {
	t.Helper()
	if opts.Origin == "" {
		opts.Origin = testOrigin
	}
	s := NewServer(opts)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn := &droppingConn{PacketConn: pc}
	conn.drop.Store(dropFirst)
	done := make(chan error, 1)
	go func() { done <- s.ServeDNS(conn) }()
	t.Cleanup(func() {
		pc.Close()
		if err := <-done; err != nil {
			t.Errorf("ServeDNS: %v", err)
		}
	})
	return &testServer{srv: s, http: hs, dnsAddr: pc.LocalAddr().(*net.UDPAddr).AddrPort(), pkarr: hs.URL + "/pkarr"}
}

type droppingConn struct {
	net.PacketConn
	drop atomic.Int32
	seen atomic.Int32
}

func (c *droppingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.PacketConn.ReadFrom(b)
		c.seen.Add(1)
		if err != nil || c.drop.Add(-1) < 0 {
			return n, from, err
		}
	}
}

func newKey(t testing.TB) identity.SecretKey {
	t.Helper()
	k, err := identity.GenerateSecretKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testInfo(key identity.SecretKey) EndpointInfo {
	return EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: key.Public(), Relays: []string{"http://127.0.0.1:3340/"}, Addrs: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:4000"), netip.MustParseAddrPort("[::1]:4000")}}, UserData: "hub"}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPublishResolvePkarrAndDNS(t *testing.T) {
	ts := startServer(t, ServerOptions{}, 0)
	key := newKey(t)
	info := testInfo(key)
	pub := &PkarrPublisher{BaseURL: ts.pkarr, Key: key}
	if err := pub.Publish(ctxT(t), info); err != nil {
		t.Fatal(err)
	}
	resolvers := map[string]Resolver{
		"pkarr": &PkarrResolver{BaseURL: ts.pkarr},
		"dns":   &DNSResolver{Server: ts.dnsAddr, Origin: testOrigin},
		"both": Resolvers{&PkarrResolver{BaseURL: ts.pkarr},
			&DNSResolver{Server: ts.dnsAddr, Origin: testOrigin}},
	}
	for name, r := range resolvers {
		got, err := r.Resolve(ctxT(t), key.Public())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, info) {
			t.Fatalf("%s: got %+v, want %+v", name, got, info)
		}
	}
	// Unknown endpoints are ErrNotFound everywhere.
	other := newKey(t).Public()
	fast := &DNSResolver{Server: ts.dnsAddr, Origin: testOrigin, Staggering: []time.Duration{0, 10 * time.Millisecond}}
	for name, r := range map[string]Resolver{"pkarr": resolvers["pkarr"], "dns": fast, "both": Resolvers{resolvers["pkarr"], fast}} {
		if _, err := r.Resolve(ctxT(t), other); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: unknown endpoint: err = %v", name, err)
		}
	}
}

func TestNewerTimestampWins(t *testing.T) {
	ts := startServer(t, ServerOptions{PutBurst: -1}, 0)
	key := newKey(t)
	put := func(ts64 uint64, relay string) {
		p, err := SignEndpointInfo(key, EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{relay}}}, ts64, DefaultTTL)
		if err != nil {
			t.Fatal(err)
		}
		if err := PutPacket(ctxT(t), nil, ts.pkarr, p); err != nil {
			t.Fatal(err)
		}
	}
	resolve := func() string {
		info, err := (&PkarrResolver{BaseURL: ts.pkarr}).Resolve(ctxT(t), key.Public())
		if err != nil || len(info.Relays) != 1 {
			t.Fatalf("resolve: %+v %v", info, err)
		}
		return info.Relays[0]
	}
	put(200, "http://new.example/")
	put(100, "http://old.example/") // accepted (204) but ignored
	if got := resolve(); got != "http://new.example/" {
		t.Fatalf("older packet replaced newer: %s", got)
	}
	put(300, "http://newest.example/")
	if got := resolve(); got != "http://newest.example/" {
		t.Fatalf("newer packet ignored: %s", got)
	}
	if got := ts.srv.Store().Get(key.Public()).Timestamp; got != 300 {
		t.Fatalf("stored timestamp %d", got)
	}
}

func TestPkarrHTTPErrors(t *testing.T) {
	ts := startServer(t, ServerOptions{PutBurst: 2, PutInterval: time.Hour}, 0)
	key := newKey(t)
	p, err := SignEndpointInfo(key, testInfo(key), Now(), DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path string, body []byte) int {
		req, err := http.NewRequest(method, ts.http.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	z := key.Public().ZBase32()
	if c := do("GET", "/pkarr/"+z, nil); c != 404 {
		t.Fatalf("GET unknown: %d", c)
	}
	if c := do("GET", "/pkarr/notakey", nil); c != 400 {
		t.Fatalf("GET bad key: %d", c)
	}
	bad := p.RelayPayload()
	bad[0] ^= 1
	if c := do("PUT", "/pkarr/"+z, bad); c != 400 {
		t.Fatalf("PUT bad signature: %d", c)
	}
	if c := do("PUT", "/pkarr/"+z, p.RelayPayload()); c != 204 {
		t.Fatalf("PUT: %d", c)
	}
	// The burst of 2 is used up: a PUT for a key not stored is refused;
	// one for the stored key passes as a refresh, within its own budget.
	other := newKey(t)
	op, err := SignEndpointInfo(other, testInfo(other), Now(), DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := PutPacket(ctxT(t), nil, ts.pkarr, op); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("third PUT, new key: %v", err)
	}
	for i := range refreshBurst {
		if err := PutPacket(ctxT(t), nil, ts.pkarr, p); err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
	}
	if err := PutPacket(ctxT(t), nil, ts.pkarr, p); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("refresh over budget: %v", err)
	}
	if c := do("GET", "/pkarr/"+z, nil); c != 200 {
		t.Fatalf("GET after PUT: %d (GET is not rate limited)", c)
	}
	if c := do("GET", "/healthz", nil); c != 200 {
		t.Fatalf("healthz: %d", c)
	}
}

func TestPkarrBodyTooLarge(t *testing.T) {
	ts := startServer(t, ServerOptions{PutBurst: -1}, 0)
	key := newKey(t)
	body := make([]byte, MaxSignedPacketLen+100)
	req, _ := http.NewRequest("PUT", ts.pkarr+"/"+key.Public().ZBase32(), bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestDNSStaggeredRetry(t *testing.T) {
	ts := startServer(t, ServerOptions{}, 1) // the first query is lost
	key := newKey(t)
	if err := (&PkarrPublisher{BaseURL: ts.pkarr, Key: key}).Publish(ctxT(t), testInfo(key)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	info, err := (&DNSResolver{Server: ts.dnsAddr, Origin: testOrigin}).Resolve(ctxT(t), key.Public())
	if err != nil {
		t.Fatal(err)
	}
	// The second attempt starts at 200 ms ± 20 %, long before the first
	// one's 3 s timeout.
	if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
		t.Fatalf("resolved after %v", el)
	}
	if info.UserData != "hub" {
		t.Fatalf("info %+v", info)
	}
}

func TestDNSServerAnswers(t *testing.T) {
	s := NewServer(ServerOptions{Origin: "Dns.Test"})
	key := newKey(t)
	p, err := SignEndpointInfo(key, EndpointInfo{UserData: "x"}, 1, 3600)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store().Put(p); err != nil {
		t.Fatal(err)
	}
	ask := func(name string, typ uint16, extra ...Record) *Message {
		q := Message{ID: 7, Flags: FlagRecursionDesired, Questions: []Question{{Name: name, Type: typ, Class: ClassIN}}, Additionals: extra}
		b, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ParseMessage(s.HandleDNS(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.ID != 7 || resp.Flags&FlagResponse == 0 || resp.Flags&FlagRecursionDesired == 0 {
			t.Fatalf("%s: header %+v", name, resp)
		}
		return resp
	}
	z := key.Public().ZBase32()
	r := ask("_IROH."+z+".dns.test.", TypeTXT)
	if r.Rcode() != RcodeSuccess || len(r.Answers) != 1 || r.Answers[0].TTL != DefaultTTL || r.Flags&FlagAuthoritative == 0 {
		t.Fatalf("answer %+v", r)
	}
	if r.Answers[0].Name != "_IROH."+z+".dns.test" {
		t.Fatalf("answer name %q does not echo the question", r.Answers[0].Name)
	}
	if r := ask("_iroh."+z+".dns.test", TypeANY); len(r.Answers) != 1 {
		t.Fatalf("ANY: %+v", r)
	}
	if r := ask("_iroh."+z+".dns.test", 1); r.Rcode() != RcodeSuccess || len(r.Answers) != 0 {
		t.Fatalf("A: %+v", r)
	}
	if r := ask("_iroh."+newKey(t).Public().ZBase32()+".dns.test", TypeTXT); r.Rcode() != RcodeNXDomain {
		t.Fatalf("unknown key: %+v", r)
	}
	if r := ask("_iroh.nonsense.dns.test", TypeTXT); r.Rcode() != RcodeNXDomain {
		t.Fatalf("bad key: %+v", r)
	}
	if r := ask("_iroh."+z+".example.org", TypeTXT); r.Rcode() != RcodeRefused {
		t.Fatalf("outside zone: %+v", r)
	}
	if got := s.HandleDNS([]byte{1, 2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}); got != nil {
		t.Fatal("answered a response")
	}
	if got, _ := ParseMessage(s.HandleDNS([]byte{1, 2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0})); got == nil || got.Rcode() != RcodeFormErr {
		t.Fatalf("garbage: %+v", got)
	}
}

func TestDNSServerTruncates(t *testing.T) {
	s := NewServer(ServerOptions{Origin: testOrigin})
	key := newKey(t)
	info := EndpointInfo{}
	for i := range 25 {
		info.Addrs = append(info.Addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 40000))
	}
	p, err := SignEndpointInfo(key, info, 1, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	s.Store().Put(p)
	q := Message{Questions: []Question{{Name: DNSName(key.Public(), testOrigin), Type: TypeTXT, Class: ClassIN}}}
	b, _ := q.Pack()
	r, _ := ParseMessage(s.HandleDNS(b))
	if r.Flags&FlagTruncated == 0 || len(r.Answers) != 0 {
		t.Fatalf("plain 512-byte answer not truncated: %d answers", len(r.Answers))
	}
	q.Additionals = []Record{{Type: TypeOPT, Class: 4096}}
	b, _ = q.Pack()
	r, _ = ParseMessage(s.HandleDNS(b))
	if r.Flags&FlagTruncated != 0 || len(r.Answers) != 25 {
		t.Fatalf("EDNS answer: TC=%v, %d answers", r.Flags&FlagTruncated != 0, len(r.Answers))
	}
}

func TestStoreBound(t *testing.T) {
	st := NewStore(2)
	var ids []identity.EndpointID
	for range 3 {
		k := newKey(t)
		p, err := SignEndpointInfo(k, EndpointInfo{}, 1, DefaultTTL)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(p); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(p); !errors.Is(err, ErrStaleTimestamp) {
			t.Fatalf("same packet twice: %v", err)
		}
		ids = append(ids, k.Public())
	}
	if st.Len() != 2 || st.Get(ids[0]) != nil || st.Get(ids[2]) == nil {
		t.Fatal("store did not evict the oldest entry")
	}
}
