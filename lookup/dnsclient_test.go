package lookup

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// fastStagger keeps iroh's seven attempts but starts them within 35 ms.
var fastStagger = []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond, 15 * time.Millisecond,
	20 * time.Millisecond, 25 * time.Millisecond, 30 * time.Millisecond}

// TestDNSFailuresReportedOnce: NXDOMAIN and REFUSED come back once, with
// the zone named, although seven attempts saw them.
func TestDNSFailuresReportedOnce(t *testing.T) {
	ts := startServer(t, ServerOptions{}, 0)
	id := newKey(t).Public()
	cases := []struct {
		origin string
		want   error
		hint   string
	}{
		{testOrigin, ErrNotFound, "no _iroh TXT record for " + id.ZBase32() + " under " + testOrigin},
		{"elsewhere.example.", ErrRefused, "neither authoritative for elsewhere.example."},
	}
	for _, c := range cases {
		r := &DNSResolver{Server: ts.dnsAddr, Origin: c.origin, Staggering: fastStagger}
		_, err := r.Resolve(ctxT(t), id)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.hint) {
			t.Fatalf("%s: %v", c.origin, err)
		}
		if n := strings.Count(err.Error(), ts.dnsAddr.String()); n != 1 {
			t.Fatalf("%s: the server is named %d times in %q", c.origin, n, err)
		}
	}
	_, err := (&DNSResolver{Server: netip.MustParseAddrPort("127.0.0.1:0"), Origin: testOrigin}).Resolve(ctxT(t), id)
	if !errors.Is(err, ErrBadNameserver) || strings.Count(err.Error(), "port 0") != 1 {
		t.Fatalf("port 0: %v", err)
	}
	if _, err := (&DNSResolver{Server: ts.dnsAddr, Origin: strings.Repeat("x", 64)}).Resolve(ctxT(t), id); !errors.Is(err, ErrBadOrigin) {
		t.Fatalf("bad origin: %v", err)
	}
}

// TestDNSUnansweredReportedOnce: a silent server gives one timeout error.
func TestDNSUnansweredReportedOnce(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	r := &DNSResolver{Server: pc.LocalAddr().(*net.UDPAddr).AddrPort(), Origin: testOrigin,
		Staggering: fastStagger, Timeout: 100 * time.Millisecond}
	_, err = r.Resolve(ctxT(t), newKey(t).Public())
	if !errors.Is(err, ErrNoAnswer) || strings.Count(err.Error(), "no DNS answer") != 1 {
		t.Fatalf("silent server: %v", err)
	}
}

// TestDNSTCPFallback: a truncated UDP answer is asked again over TCP on
// the same port.
func TestDNSTCPFallback(t *testing.T) {
	s, id := bigPacketServer(t, ServerLimits{})
	l, pc := listenSamePort(t)
	go s.ServeDNSTCP(l)
	go fakeDNS(pc, func(q []byte) [][]byte { return [][]byte{s.respond(q, modeSlip)} })
	info, err := (&DNSResolver{Server: netipAddrPort(t, l.Addr().String()), Origin: testOrigin}).Resolve(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Addrs) != 26 {
		t.Fatalf("%d addresses over TCP", len(info.Addrs))
	}
}

// listenSamePort listens on TCP and UDP on one loopback port, trying
// other ports while another process holds the UDP one (tests in other
// packages bind ports at the same time).
func listenSamePort(t *testing.T) (net.Listener, net.PacketConn) {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", l.Addr().String())
		if err == nil {
			t.Cleanup(func() { l.Close(); pc.Close() })
			return l, pc
		}
		l.Close()
	}
	t.Fatal("no loopback port free for both TCP and UDP")
	return nil, nil
}

// TestDNSIgnoresAnswersToOtherQueries: answers for another name or ID are
// skipped (the real one still counts); with only those, the error says
// what arrived.
func TestDNSIgnoresAnswersToOtherQueries(t *testing.T) {
	s, id := bigPacketServer(t, ServerLimits{})
	other := newKey(t).Public()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var honest atomic.Bool
	honest.Store(true)
	go fakeDNS(pc, func(q []byte) [][]byte {
		m, _ := ParseMessage(q)
		forged := *m
		forged.Questions = []Question{{Name: DNSName(other, testOrigin), Type: TypeTXT, Class: ClassIN}}
		fb, _ := forged.Pack()
		out := [][]byte{s.respond(fb, modeUDP)}
		if honest.Load() {
			out = append(out, s.respond(q, modeUDP))
		}
		return out
	})
	r := &DNSResolver{Server: pc.LocalAddr().(*net.UDPAddr).AddrPort(), Origin: testOrigin,
		Staggering: []time.Duration{0}, Timeout: 5 * time.Second}
	if info, err := r.Resolve(ctxT(t), id); err != nil || len(info.Addrs) != 26 {
		t.Fatalf("with a forged answer first: %d addrs, %v", len(info.Addrs), err)
	}
	honest.Store(false)
	r.Timeout = 300 * time.Millisecond
	_, err = r.Resolve(ctxT(t), id)
	if !errors.Is(err, ErrNoAnswer) || !strings.Contains(err.Error(), "another query") {
		t.Fatalf("only forged answers: %v", err)
	}
}

// fakeDNS answers each datagram on pc with what answer returns.
func fakeDNS(pc net.PacketConn, answer func(q []byte) [][]byte) {
	buf := make([]byte, 4096)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		for _, b := range answer(append([]byte(nil), buf[:n]...)) {
			pc.WriteTo(b, from)
		}
	}
}

// TestNewDNSResolverHostName: a nameserver given by host name (localhost,
// from /etc/hosts) and port.
func TestNewDNSResolverHostName(t *testing.T) {
	ts := startServer(t, ServerOptions{}, 0)
	key := newKey(t)
	if err := (&PkarrPublisher{BaseURL: ts.pkarr, Key: key}).Publish(ctxT(t), testInfo(key)); err != nil {
		t.Fatal(err)
	}
	r, err := NewDNSResolver(testOrigin, "localhost:"+itoa(ts.dnsAddr.Port()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(ctxT(t), key.Public())
	if err != nil || !reflect.DeepEqual(got, testInfo(key)) {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "host:0", "a b", "[::1", "1.2.3.4:99999"} {
		if _, err := NewDNSResolver(testOrigin, bad); !errors.Is(err, ErrBadNameserver) {
			t.Errorf("nameserver %q: %v", bad, err)
		}
	}
	if _, err := NewDNSResolver("bad..origin", "127.0.0.1"); !errors.Is(err, ErrBadOrigin) {
		t.Errorf("bad origin: %v", err)
	}
}

// TestSystemDNSResolver: the nameservers come from the resolv.conf read
// at lookup time; without one, Go's resolver answers.
func TestSystemDNSResolver(t *testing.T) {
	ts := startServer(t, ServerOptions{}, 0)
	key := newKey(t)
	if err := (&PkarrPublisher{BaseURL: ts.pkarr, Key: key}).Publish(ctxT(t), testInfo(key)); err != nil {
		t.Fatal(err)
	}
	r, err := SystemDNSResolver(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	r.system = &systemConf{path: conf, port: ts.dnsAddr.Port()}
	r.Staggering = fastStagger
	// A stand-in for Go's resolver: never the host's real DNS in a test.
	asked := make(chan string, len(fastStagger))
	goLookupTXT = func(_ context.Context, name string) ([]string, error) {
		asked <- name
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	t.Cleanup(func() { goLookupTXT = net.DefaultResolver.LookupTXT })

	_, err = r.Resolve(ctxT(t), key.Public())
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "system resolver") {
		t.Fatalf("no resolv.conf: %v", err)
	}
	if name := <-asked; name != DNSName(key.Public(), testOrigin)+"." {
		t.Fatalf("Go resolver asked %q", name)
	}
	if err := os.WriteFile(conf, []byte("# test\nnameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(ctxT(t), key.Public())
	if err != nil || !reflect.DeepEqual(got, testInfo(key)) {
		t.Fatalf("from resolv.conf: %+v %v", got, err)
	}
}

// TestLookupErrorIs: several resolvers' failures, each once; ErrNotFound
// only if all say so.
func TestLookupErrorIs(t *testing.T) {
	nf := func(s string) error { return errors.Join(ErrNotFound, errors.New(s)) }
	e := &LookupError{Errs: []error{nf("a"), ErrRefused}}
	if errors.Is(e, ErrNotFound) || !errors.Is(e, ErrRefused) {
		t.Fatal("mixed failures")
	}
	if !errors.Is(&LookupError{Errs: []error{nf("a"), nf("b")}}, ErrNotFound) {
		t.Fatal("all not found")
	}
	_, err := Resolvers{failing{nf("x")}, failing{nf("x")}}.Resolve(ctxT(t), identity.EndpointID{})
	if err == nil || err.Error() != nf("x").Error() {
		t.Fatalf("one failure twice: %v", err)
	}
}

type failing struct{ err error }

func (f failing) Resolve(context.Context, identity.EndpointID) (EndpointInfo, error) {
	return EndpointInfo{}, f.err
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}
