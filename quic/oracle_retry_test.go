package quic

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"

	quicgo "github.com/quic-go/quic-go"

	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

// TestOracleRetry: quic-go's server validates every client address with a
// Retry first (as an iroh hub behind an incoming filter may); our client
// follows it and the connection works.
func TestOracleRetry(t *testing.T) {
	goKey := testKey(t, 30)
	ourKey := testKey(t, 31)
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	spy := &retrySpy{PacketConn: udp}
	tr := &quicgo.Transport{Conn: spy, VerifySourceAddress: func(net.Addr) bool { return true }}
	t.Cleanup(func() { tr.Close() })
	ln, err := tr.Listen(goTLSConfig(t, goKey.PrivateKey(), ourKey.Public().PublicKey()), goQUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	go func() {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		s, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
	ep := newTestEndpointMode(t, &Config{SecretKey: ourKey}, handshake.ModeX509)
	c, err := ep.Dial(ctx, addrOf(t, ln.Addr()), goKey.Public(), testALPN)
	if err != nil {
		t.Fatalf("dial through Retry: %v", err)
	}
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("retry"), 1000)
	if _, err := s.Write(msg); err != nil {
		t.Fatal(err)
	}
	s.Close()
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo after Retry: %d bytes, %v", len(got), err)
	}
	c.Close(0, "")
	if spy.retries.Load() == 0 {
		t.Fatal("quic-go sent no Retry, so the test proved nothing")
	}
}

// retrySpy counts the Retry packets quic-go writes.
type retrySpy struct {
	net.PacketConn
	retries atomic.Int32
}

func (r *retrySpy) WriteTo(p []byte, addr net.Addr) (int, error) {
	if len(p) > 0 && p[0]&0xf0 == 0xf0 { // long header, type Retry
		r.retries.Add(1)
	}
	return r.PacketConn.WriteTo(p, addr)
}

// retryCounter counts the Retry packets an endpoint of ours writes.
type retryCounter struct {
	Transport
	retries atomic.Int32
}

func (r *retryCounter) WriteTo(p []byte, to Addr) error {
	if len(p) > 0 && p[0]&0xf0 == 0xf0 {
		r.retries.Add(1)
	}
	return r.Transport.WriteTo(p, to)
}

// retryingServer is a server endpoint of ours that answers every first
// Initial with a Retry.
func retryingServer(t *testing.T, cfg Config, mode handshake.Mode) (*Endpoint, *retryCounter) {
	t.Helper()
	tr, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &retryCounter{Transport: tr}
	cfg.ALPNs, cfg.RetryAbove = []string{testALPN}, -1
	ep, err := newEndpoint(rc, &cfg, mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep, rc
}

// TestOracleRetryOurServer: our server makes quic-go's client prove its
// address with a Retry first; the connection then works.
func TestOracleRetryOurServer(t *testing.T) {
	goKey, ourKey := testKey(t, 32), testKey(t, 33)
	ep, rc := retryingServer(t, Config{SecretKey: ourKey}, handshake.ModeX509)
	ctx := testCtx(t)
	g, err := quicgo.DialAddr(ctx, ep.LocalAddr().String(), goTLSConfig(t, goKey.PrivateKey(), ourKey.Public().PublicKey()), goQUICConfig())
	if err != nil {
		t.Fatalf("quic-go dial through our Retry: %v", err)
	}
	defer g.CloseWithError(0, "")
	c, err := ep.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	echoStream(t, c)
	s, err := g.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("retry"), 1000)
	s.Write(msg)
	s.Close()
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo after Retry: %d bytes, %v", len(got), err)
	}
	// quic-go's ClientHello may span two Initials: each gets a Retry.
	if n := rc.retries.Load(); n == 0 {
		t.Fatal("no Retry sent")
	}
}

// TestRetryOurClient: our own client follows our server's Retry.
func TestRetryOurClient(t *testing.T) {
	sep, rc := retryingServer(t, Config{}, handshake.ModeRawPublicKey)
	c, s := dialAccept(t, newTestEndpoint(t, nil), sep, addrOf(t, sep.LocalAddr()))
	echoStream(t, s)
	st, err := c.OpenStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, st, []byte("after our Retry"))
	if n := rc.retries.Load(); n != 1 {
		t.Fatalf("%d Retry packets, want 1", n)
	}
	sep.mu.Lock()
	pending := sep.ep.Pending()
	sep.mu.Unlock()
	if pending != 0 {
		t.Fatalf("%d handshakes still pending after it completed", pending)
	}
}
