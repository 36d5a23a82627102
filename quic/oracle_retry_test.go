package quic

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"

	quicgo "github.com/quic-go/quic-go"
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
	ep := newTestEndpoint(t, &Config{SecretKey: ourKey, X509: true})
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
