package endpoint

import (
	"context"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/lookup"
)

// delayProxy is a TCP proxy on loopback that holds every chunk of data
// for delay in each direction, so that a relay behind it looks that much
// farther away (there is no netem here). Kill drops it like a dead host.
type delayProxy struct {
	t     testing.TB
	l     net.Listener
	to    string
	delay time.Duration
	URL   string

	mu    sync.Mutex
	conns []net.Conn
	dead  bool
	wg    sync.WaitGroup
}

func startDelayProxy(t testing.TB, to string, delay time.Duration) *delayProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{t: t, l: l, to: to, delay: delay, URL: "http://" + l.Addr().String()}
	p.wg.Go(p.serve)
	t.Cleanup(p.Kill)
	return p
}

func (p *delayProxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.to)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in, out) {
			return
		}
		p.wg.Go(func() { p.pipe(out, in) })
		p.wg.Go(func() { p.pipe(in, out) })
	}
}

func (p *delayProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

// pipe copies src to dst, each chunk delivered delay after it was read
// (order kept, so the delay adds to latency, not to jitter).
func (p *delayProxy) pipe(dst, src net.Conn) {
	type chunk struct {
		due  time.Time
		data []byte
	}
	q := make(chan chunk, 4096)
	p.wg.Go(func() {
		defer dst.Close()
		for c := range q {
			time.Sleep(time.Until(c.due))
			if _, err := dst.Write(c.data); err != nil {
				return
			}
		}
	})
	defer close(q)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			q <- chunk{time.Now().Add(p.delay), append([]byte(nil), buf[:n]...)}
		}
		if err != nil {
			return
		}
	}
}

// Kill closes the listener and every connection at once.
func (p *delayProxy) Kill() {
	p.mu.Lock()
	p.dead = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.l.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}

// lookupServer is our iroh-dns-server subset on loopback: pkarr over
// HTTP, DNS over UDP for origin.
type lookupServer struct {
	srv      *lookup.Server
	PkarrURL string
	DNS      string // host:port
	Origin   string
}

func startLookupServer(t testing.TB) *lookupServer {
	t.Helper()
	const origin = "irohspoke.test."
	ls := lookup.NewServer(lookup.ServerOptions{Origin: origin, PutBurst: -1})
	hs := httptest.NewServer(ls.Handler())
	t.Cleanup(hs.Close)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go ls.ServeDNS(pc)
	return &lookupServer{srv: ls, PkarrURL: hs.URL + "/pkarr", DNS: pc.LocalAddr().String(), Origin: origin}
}

// published waits until the server has a record for the endpoint that
// names relay, and checks that it names no IP address.
func (s *lookupServer) published(t testing.TB, ctx context.Context, e *Endpoint, relay string) {
	t.Helper()
	for {
		if p := s.srv.Store().Get(e.ID()); p != nil {
			info, err := p.EndpointInfo()
			if err == nil && len(info.Relays) == 1 && info.Relays[0] == relay {
				if len(info.Addrs) != 0 {
					t.Fatalf("published addresses %v; iroh publishes the relay only", info.Addrs)
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never published %s", e.ID().Short(), relay)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
