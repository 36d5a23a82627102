package quic

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// initialFlooder sends real client Initials (a ClientHello each, from a
// fresh connection attempt) from one socket and never answers: the
// review's probe for handshake state an unauthenticated sender can make a
// server hold.
type initialFlooder struct {
	udp     *net.UDPConn
	cfg     core.Config
	retries atomic.Int32 // Retry packets received
}

func newInitialFlooder(t testing.TB, bind string) *initialFlooder {
	t.Helper()
	udp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(mustAddrPort(t, bind)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { udp.Close() })
	k := testKey(t, 77)
	return &initialFlooder{udp: udp, cfg: core.Config{TLS: &handshake.Config{ALPN: []string{testALPN}, PrivateKey: k.PrivateKey()}}}
}

// send sends n Initials to the server at to; replies are read and dropped.
func (f *initialFlooder) send(t testing.TB, to Addr, n int) {
	t.Helper()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := f.udp.Read(buf)
			if err != nil {
				return
			}
			if n > 0 && buf[0]&0xf0 == 0xf0 {
				f.retries.Add(1)
			}
		}
	}()
	buf := make([]byte, 1500)
	dst := net.UDPAddrFromAddrPort(to.UDP)
	for range n {
		c, err := core.NewClient(&f.cfg, time.Now(), to)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := c.PollTransmit(time.Now(), buf)
		if _, err := f.udp.WriteToUDP(buf[:m], dst); err != nil {
			t.Fatal(err)
		}
	}
}

// serverConns counts the server connections an endpoint holds.
func serverConns(e *Endpoint) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, _, _ := e.ep.Len()
	return n
}

// waitConns waits until the endpoint's connection count stops changing.
func waitConns(e *Endpoint) int {
	last := -1
	for n := serverConns(e); n != last; n = serverConns(e) {
		last = n
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// TestHandshakeFloodBounded: Initials that are never followed up hold at
// most MaxPendingHandshakesPerSource connections from one address; past
// RetryAbove pending handshakes other sources get Retry packets and no
// state, and a real client still gets in (through a Retry).
func TestHandshakeFloodBounded(t *testing.T) {
	sep := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}})
	to := addrOf(t, sep.LocalAddr())
	newInitialFlooder(t, "127.0.0.2:0").send(t, to, 300)
	if n := waitConns(sep); n > DefaultMaxPendingHandshakesPerSource {
		t.Fatalf("%d connections from one source", n)
	}
	var fls []*initialFlooder
	for i := range 10 {
		fl := newInitialFlooder(t, fmt.Sprintf("127.0.0.%d:0", 3+i))
		fl.send(t, to, 20)
		fls = append(fls, fl)
	}
	n := waitConns(sep)
	var retries int32
	for _, fl := range fls {
		retries += fl.retries.Load()
	}
	t.Logf("%d connections, %d Retry packets to other sources", n, retries)
	if n > DefaultMaxPendingHandshakesPerSource || retries == 0 {
		t.Fatalf("%d connections, %d Retry packets", n, retries)
	}
	cep := newTestEndpoint(t, nil)
	ctx := testCtx(t)
	go sep.Accept(ctx)
	if _, err := cep.Dial(ctx, to, sep.ID(), testALPN); err != nil {
		t.Fatalf("a real client during the flood: %v", err)
	}
}

// BenchmarkHandshakeFlood: 20,000 ClientHellos from one address that never
// answer; reports the connections the server took on and its heap growth.
func BenchmarkHandshakeFlood(b *testing.B) {
	const n = 20_000
	for b.Loop() {
		sep := newTestEndpoint(b, &Config{ALPNs: []string{testALPN}})
		fl := newInitialFlooder(b, "127.0.0.2:0")
		before := heapInuse()
		fl.send(b, addrOf(b, sep.LocalAddr()), n)
		conns := waitConns(sep)
		b.ReportMetric(float64(conns), "conns")
		b.ReportMetric(float64(heapInuse()-before)/(1<<20), "heap-MiB")
		sep.Close()
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func mustAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestMaxIncomingConnections: past the limit an Initial gets no
// connection; a slot frees when a connection ends.
func TestMaxIncomingConnections(t *testing.T) {
	sep := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}, MaxIncomingConnections: 2})
	cep := newTestEndpoint(t, &Config{HandshakeTimeout: 300 * time.Millisecond})
	ctx := testCtx(t)
	to := addrOf(t, sep.LocalAddr())
	var first *Conn
	for i := range 2 {
		c, err := cep.Dial(ctx, to, sep.ID(), testALPN)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		first = c
	}
	var te *TransportError
	if _, err := cep.Dial(ctx, to, sep.ID(), testALPN); !errors.As(err, &te) || !te.Remote || te.Code != uint64(wire.ConnectionRefused) {
		t.Fatalf("third connection: %v, want CONNECTION_REFUSED", err)
	}
	first.Close(0, "")
	waitFor(t, func() bool { return serverConns(sep) < 2 })
	if _, err := cep.Dial(ctx, to, sep.ID(), testALPN); err != nil {
		t.Fatalf("after one closed: %v", err)
	}
}
