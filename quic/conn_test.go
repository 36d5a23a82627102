package quic

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestHandshakeAndEcho(t *testing.T) {
	ck, sk := testKey(t, 1), testKey(t, 2)
	c, s, cep, sep := pair(t, &Config{SecretKey: ck}, &Config{SecretKey: sk})
	if c.RemoteID() != sep.ID() || s.RemoteID() != cep.ID() {
		t.Fatalf("remote IDs %s/%s", c.RemoteID().Short(), s.RemoteID().Short())
	}
	if c.ALPN() != testALPN || s.ALPN() != testALPN {
		t.Fatalf("ALPN %q %q", c.ALPN(), s.ALPN())
	}
	ctx := testCtx(t)
	go func() {
		st, err := s.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(st, st)
		st.Close()
	}()
	st, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("hello quic "), 1000)
	if _, err := st.Write(msg); err != nil {
		t.Fatal(err)
	}
	st.Close()
	got, err := io.ReadAll(st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo mismatch: %d bytes", len(got))
	}
}

func TestConcurrentStreams(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	go func() {
		for {
			st, err := s.AcceptStream(ctx)
			if err != nil {
				return
			}
			go func() {
				io.Copy(st, st)
				st.Close()
			}()
		}
	}()
	const n = 100
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			st, err := c.OpenStream(ctx)
			if err != nil {
				errs <- err
				return
			}
			msg := bytes.Repeat([]byte{byte(i)}, 10000+i)
			go func() {
				st.Write(msg)
				st.Close()
			}()
			got, err := io.ReadAll(st)
			if err == nil && !bytes.Equal(got, msg) {
				err = fmt.Errorf("stream %d: echo mismatch (%d bytes)", st.StreamID(), len(got))
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Streams beyond the peer's limit wait for credit instead of failing:
	// all 100 slots were returned as the streams finished.
	for i := 0; i < 150; i++ {
		st, err := c.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		st.CancelRead(0)
	}
}

func TestDatagrams(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	if c.MaxDatagramSize() < 1000 {
		t.Fatalf("MaxDatagramSize %d", c.MaxDatagramSize())
	}
	if err := c.SendDatagram(make([]byte, c.MaxDatagramSize()+1)); !errors.Is(err, ErrDatagramTooLarge) {
		t.Fatalf("oversized datagram: %v", err)
	}
	// Loopback loses nothing in practice, but datagrams are unreliable:
	// resend until one arrives.
	done := make(chan []byte, 1)
	go func() {
		d, err := s.ReceiveDatagram(ctx)
		if err == nil {
			done <- d
		}
	}()
	for {
		if err := c.SendDatagram([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-done:
			if string(d) != "ping" {
				t.Fatalf("got %q", d)
			}
			return
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no datagram arrived")
		}
	}
}

func TestDatagramsDisabled(t *testing.T) {
	c, _, _, _ := pair(t, nil, &Config{DisableDatagrams: true})
	if err := c.SendDatagram([]byte("x")); !errors.Is(err, ErrDatagramsDisabled) {
		t.Fatalf("got %v", err)
	}
}

func TestUniStreams(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	st, err := c.OpenUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Read(make([]byte, 1)); !errors.Is(err, ErrSendOnly) {
		t.Fatalf("read on send-only stream: %v", err)
	}
	msg := bytes.Repeat([]byte("uni"), 50000)
	go func() {
		st.Write(msg)
		st.Close()
	}()
	rs, err := s.AcceptUniStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Write([]byte("x")); !errors.Is(err, ErrReceiveOnly) {
		t.Fatalf("write on receive-only stream: %v", err)
	}
	got, err := io.ReadAll(rs)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
}

func TestStreamResetAndStop(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	st, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Write([]byte("data"))
	ss, err := s.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.CancelWrite(7)
	buf := make([]byte, 100)
	var se *StreamError
	for {
		_, err = ss.Read(buf)
		if err != nil {
			break
		}
	}
	if !errors.As(err, &se) || !se.Remote || se.Code != 7 {
		t.Fatalf("reader saw %v, want remote reset code 7", err)
	}
	// STOP_SENDING from the server reaches the client's writer.
	st2, _ := c.OpenStream(ctx)
	st2.Write([]byte("x"))
	ss2, err := s.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ss2.CancelRead(11)
	for {
		_, err = st2.Write(make([]byte, 1000))
		if err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if !errors.As(err, &se) || !se.Remote || se.Code != 11 {
		t.Fatalf("writer saw %v, want remote stop code 11", err)
	}
}

func TestApplicationClose(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	if err := c.Close(42, "bye"); err != nil {
		t.Fatal(err)
	}
	var ae *ApplicationError
	if !errors.As(c.Err(), &ae) || ae.Remote || ae.Code != 42 || ae.Reason != "bye" {
		t.Fatalf("client error %v", c.Err())
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not see the close")
	}
	if !errors.As(s.Err(), &ae) || !ae.Remote || ae.Code != 42 || ae.Reason != "bye" {
		t.Fatalf("server error %v", s.Err())
	}
	if context.Cause(s.Context()) != s.Err() {
		t.Fatalf("context cause %v", context.Cause(s.Context()))
	}
	if _, err := s.OpenStream(testCtx(t)); !errors.As(err, &ae) {
		t.Fatalf("OpenStream after close: %v", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	cfg := &Config{IdleTimeout: 300 * time.Millisecond, KeepAlive: -1}
	c, s, _, _ := pair(t, cfg, &Config{IdleTimeout: 300 * time.Millisecond, KeepAlive: -1})
	for _, conn := range []*Conn{c, s} {
		select {
		case <-conn.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("no idle timeout")
		}
		if !errors.Is(conn.Err(), ErrIdleTimeout) {
			t.Fatalf("error %v", conn.Err())
		}
	}
}

func TestKeepAliveOutlivesIdleTimeout(t *testing.T) {
	cfg := &Config{IdleTimeout: 300 * time.Millisecond, KeepAlive: 50 * time.Millisecond}
	c, _, _, _ := pair(t, cfg, &Config{IdleTimeout: 300 * time.Millisecond})
	select {
	case <-c.Done():
		t.Fatalf("closed despite keep-alive: %v", c.Err())
	case <-time.After(time.Second):
	}
}

func TestWrongEndpointID(t *testing.T) {
	sep := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}})
	cep := newTestEndpoint(t, nil)
	wrong := testKey(t, 9).Public()
	c, err := cep.Dial(testCtx(t), addrOf(t, sep.LocalAddr()), wrong, testALPN)
	if c != nil {
		t.Fatal("got a connection")
	}
	var te *TransportError
	if !errors.As(err, &te) || te.Remote || te.Code != 0x130 {
		t.Fatalf("got %v, want local CRYPTO_ERROR unknown_ca", err)
	}
	if alert, ok := te.TLSAlert(); !ok || alert != 48 {
		t.Fatalf("alert %d %v", alert, ok)
	}
	if !strings.Contains(err.Error(), "server key does not match the dialled EndpointId") {
		t.Fatalf("unclear error %q", err)
	}
}

func TestWrongALPN(t *testing.T) {
	sep := newTestEndpoint(t, &Config{ALPNs: []string{"other/1"}})
	cep := newTestEndpoint(t, nil)
	_, err := cep.Dial(testCtx(t), addrOf(t, sep.LocalAddr()), sep.ID(), testALPN)
	var te *TransportError
	if !errors.As(err, &te) || !te.Remote || te.Code != 0x178 {
		t.Fatalf("got %v, want peer CRYPTO_ERROR no_application_protocol", err)
	}
	if !strings.Contains(err.Error(), "ALPN") {
		t.Fatalf("unclear error %q", err)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cep := newTestEndpoint(t, &Config{HandshakeTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err = cep.Dial(context.Background(), addrOf(t, silent.LocalAddr()), testKey(t, 3).Public(), testALPN)
	if !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	// The context bounds Dial too.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := cep.Dial(ctx, addrOf(t, silent.LocalAddr()), testKey(t, 3).Public(), testALPN); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestClientOnlyEndpointIgnoresInitials(t *testing.T) {
	sep := newTestEndpoint(t, nil) // no ALPNs
	cep := newTestEndpoint(t, &Config{HandshakeTimeout: 200 * time.Millisecond})
	if _, err := cep.Dial(testCtx(t), addrOf(t, sep.LocalAddr()), sep.ID(), testALPN); !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("got %v", err)
	}
	if _, err := sep.Accept(testCtx(t)); !errors.Is(err, ErrNotListening) {
		t.Fatalf("Accept: %v", err)
	}
}

// transferKeyUpdate sends size bytes client→server, calling mid after
// half of it.
func transferSHA(t *testing.T, c, s *Conn, size int, mid func()) {
	t.Helper()
	ctx := testCtx(t)
	src := make([]byte, size)
	rand.Read(src)
	want := sha256.Sum256(src)
	got := make(chan [32]byte, 1)
	go func() {
		st, err := s.AcceptStream(ctx)
		if err != nil {
			got <- [32]byte{}
			return
		}
		h := sha256.New()
		io.Copy(h, st)
		got <- [32]byte(h.Sum(nil))
	}()
	st, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	half := size / 2
	if _, err := st.Write(src[:half]); err != nil {
		t.Fatal(err)
	}
	mid()
	if _, err := st.Write(src[half:]); err != nil {
		t.Fatal(err)
	}
	st.Close()
	select {
	case h := <-got:
		if h != want {
			t.Fatal("hash mismatch")
		}
	case <-ctx.Done():
		t.Fatal("transfer timed out")
	}
}

func TestForcedKeyUpdate(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	transferSHA(t, c, s, 4<<20, func() {
		c.ForceKeyUpdate()
		time.Sleep(20 * time.Millisecond)
	})
	// Exactly one update: forcing must not leave the interval lowered.
	if c.Stats().KeyUpdates != 1 || s.Stats().KeyUpdates != 1 {
		t.Fatalf("key updates: client %d server %d", c.Stats().KeyUpdates, s.Stats().KeyUpdates)
	}
}

func TestKeyUpdateInterval(t *testing.T) {
	c, s, _, _ := pair(t, &Config{KeyUpdateInterval: 50}, nil)
	transferSHA(t, c, s, 2<<20, func() {})
	if n := c.Stats().KeyUpdates; n < 3 {
		t.Fatalf("only %d key updates", n)
	}
}

func TestStreamDeadlines(t *testing.T) {
	c, s, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	st, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := st.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > time.Second {
		t.Fatalf("deadline fired after %v", d)
	}
	// A past deadline fails at once; clearing it lets data through.
	st.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := st.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v", err)
	}
	st.SetReadDeadline(time.Time{})
	st.Write([]byte("go"))
	ss, err := s.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ss.Write([]byte("ok"))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(st, buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q %v", buf, err)
	}
	// Write blocks once the peer's flow control and our send buffer are
	// full (nobody reads ss); the write deadline ends it.
	st.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	n, err := st.Write(make([]byte, 8<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n == 8<<20 {
		t.Fatalf("write: %d %v", n, err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		tr1, _ := ListenUDP("127.0.0.1:0")
		tr2, _ := ListenUDP("127.0.0.1:0")
		sep, _ := NewEndpoint(tr1, &Config{ALPNs: []string{testALPN}})
		cep, _ := NewEndpoint(tr2, nil)
		ctx := testCtx(t)
		for i := 0; i < 3; i++ {
			c, err := cep.Dial(ctx, addrOf(t, sep.LocalAddr()), sep.ID(), testALPN)
			if err != nil {
				t.Fatal(err)
			}
			s, err := sep.Accept(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := c.OpenStream(ctx)
			st.Write([]byte("x"))
			ss, _ := s.AcceptStream(ctx)
			ss.Read(make([]byte, 1))
			st.SetReadDeadline(time.Now().Add(time.Hour))
			go st.Read(make([]byte, 1)) // blocked reader: must end with the connection
		}
		cep.Close()
		sep.Close()
	}()
	checkGoroutines(t, base)
}
