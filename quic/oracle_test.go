package quic

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

// These tests check our stack against quic-go (with Go's crypto/tls), in
// X.509 mode since crypto/tls has no raw public keys.

// goTLSCert makes the Ed25519 self-signed certificate quic-go presents.
func goTLSCert(t testing.TB, k ed25519.PrivateKey) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "quic-go oracle"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// pinPeer accepts exactly one certificate carrying the key want.
func pinPeer(want ed25519.PublicKey) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) != 1 {
			return fmt.Errorf("got %d certificates", len(raw))
		}
		cert, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		if k, ok := cert.PublicKey.(ed25519.PublicKey); !ok || !k.Equal(want) {
			return errors.New("peer key mismatch")
		}
		return nil
	}
}

func goTLSConfig(t testing.TB, own ed25519.PrivateKey, peer ed25519.PublicKey) *tls.Config {
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{goTLSCert(t, own)},
		NextProtos:            []string{testALPN},
		ClientAuth:            tls.RequireAnyClientCert,
		InsecureSkipVerify:    true, // the key is pinned by VerifyPeerCertificate
		VerifyPeerCertificate: pinPeer(peer),
	}
}

func goQUICConfig() *quicgo.Config {
	return &quicgo.Config{
		EnableDatagrams:    true,
		MaxIncomingStreams: 100,
		MaxIdleTimeout:     30 * time.Second,
		// Features our stack lacks stay off (RESET_STREAM_AT is off by
		// default; say so explicitly).
		EnableStreamResetPartialDelivery: false,
	}
}

// oraclePair is one connection between our stack and quic-go.
type oraclePair struct {
	ours   *Conn
	theirs *quicgo.Conn
	client bool // ours is the client
}

func oracleOurClient(t testing.TB) oraclePair {
	t.Helper()
	goKey := testKey(t, 20)
	ourKey := testKey(t, 21)
	ln, err := quicgo.ListenAddr("127.0.0.1:0", goTLSConfig(t, goKey.PrivateKey(), ourKey.Public().PublicKey()), goQUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ep := newTestEndpointMode(t, &Config{SecretKey: ourKey}, handshake.ModeX509)
	ctx := testCtx(t)
	accepted := make(chan *quicgo.Conn, 1)
	go func() {
		c, err := ln.Accept(ctx)
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := ep.Dial(ctx, addrOf(t, ln.Addr()), goKey.Public(), testALPN)
	if err != nil {
		t.Fatal(err)
	}
	g := <-accepted
	if g == nil {
		t.Fatal("quic-go accepted nothing")
	}
	t.Cleanup(func() { g.CloseWithError(0, "") })
	return oraclePair{ours: c, theirs: g, client: true}
}

func oracleOurServer(t testing.TB) oraclePair {
	t.Helper()
	goKey := testKey(t, 22)
	ourKey := testKey(t, 23)
	ep := newTestEndpointMode(t, &Config{SecretKey: ourKey, ALPNs: []string{testALPN}}, handshake.ModeX509)
	ctx := testCtx(t)
	g, err := quicgo.DialAddr(ctx, ep.LocalAddr().String(), goTLSConfig(t, goKey.PrivateKey(), ourKey.Public().PublicKey()), goQUICConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.CloseWithError(0, "") })
	c, err := ep.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteID() != goKey.Public() {
		t.Fatalf("server sees peer %s", c.RemoteID().Short())
	}
	return oraclePair{ours: c, theirs: g}
}

func forBothOracles(t *testing.T, f func(t *testing.T, p oraclePair)) {
	t.Run("OurClient", func(t *testing.T) { f(t, oracleOurClient(t)) })
	t.Run("OurServer", func(t *testing.T) { f(t, oracleOurServer(t)) })
}

func TestOracleHandshake(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		if p.ours.ALPN() != testALPN || p.theirs.ConnectionState().TLS.NegotiatedProtocol != testALPN {
			t.Fatal("ALPN not negotiated")
		}
	})
}

// bulkBothWays sends size bytes in each direction on one stream opened by
// the client, checking SHA-256 at both ends; mid runs halfway through.
func bulkBothWays(t *testing.T, p oraclePair, size int, mid func()) {
	ctx := testCtx(t)
	ourData, goData := make([]byte, size), make([]byte, size)
	rand.Read(ourData)
	rand.Read(goData)
	var ourRW, goRW io.ReadWriteCloser
	var goStreamErr, ourStreamErr error
	var wg sync.WaitGroup
	wg.Add(1)
	if p.client {
		s, err := p.ours.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte{0}) // a stream is announced by its first frame
		ourRW = s
		go func() {
			defer wg.Done()
			var gs *quicgo.Stream
			gs, goStreamErr = p.theirs.AcceptStream(ctx)
			goRW = gs
			if gs != nil {
				_, goStreamErr = io.ReadFull(gs, make([]byte, 1))
			}
		}()
	} else {
		gs, err := p.theirs.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		gs.Write([]byte{0})
		goRW = gs
		go func() {
			defer wg.Done()
			var s *Stream
			s, ourStreamErr = p.ours.AcceptStream(ctx)
			ourRW = s
			if s != nil {
				_, ourStreamErr = io.ReadFull(s, make([]byte, 1))
			}
		}()
	}
	wg.Wait()
	if goStreamErr != nil || ourStreamErr != nil {
		t.Fatal(goStreamErr, ourStreamErr)
	}
	send := func(w io.WriteCloser, data []byte, midway func()) error {
		half := len(data) / 2
		if _, err := w.Write(data[:half]); err != nil {
			return err
		}
		if midway != nil {
			midway()
		}
		if _, err := w.Write(data[half:]); err != nil {
			return err
		}
		return w.Close()
	}
	recv := func(r io.Reader, want []byte) error {
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(want); n != int64(len(want)) || !bytes.Equal(h.Sum(nil), sum[:]) {
			return fmt.Errorf("received %d bytes, hash mismatch", n)
		}
		return nil
	}
	errs := make(chan error, 4)
	go func() { errs <- send(ourRW, ourData, mid) }()
	go func() { errs <- send(goRW, goData, nil) }()
	go func() { errs <- recv(ourRW, goData) }()
	go func() { errs <- recv(goRW, ourData) }()
	for i := 0; i < 4; i++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("bulk transfer timed out")
		}
	}
}

func TestOracleBulk10MiB(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		bulkBothWays(t, p, 10<<20, nil)
	})
}

func TestOracleKeyUpdate(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		bulkBothWays(t, p, 2<<20, func() {
			p.ours.ForceKeyUpdate()
			time.Sleep(20 * time.Millisecond)
		})
		// quic-go may update on its own too (it does an early one after
		// about 100 packets), so count only the update we forced.
		if n := p.ours.Stats().KeyUpdatesInitiated; n != 1 {
			t.Fatalf("%d key updates initiated by us, want 1 (%d in all)", n, p.ours.Stats().KeyUpdates)
		}
	})
}

func TestOracleConcurrentStreams(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		ctx := testCtx(t)
		// quic-go echoes every stream we open.
		go func() {
			for {
				gs, err := p.theirs.AcceptStream(ctx)
				if err != nil {
					return
				}
				go func() {
					io.Copy(gs, gs)
					gs.Close()
				}()
			}
		}()
		const n = 100
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				s, err := p.ours.OpenStream(ctx)
				if err != nil {
					errs <- err
					return
				}
				msg := bytes.Repeat([]byte{byte(i)}, 5000+i)
				go func() {
					s.Write(msg)
					s.Close()
				}()
				got, err := io.ReadAll(s)
				if err == nil && !bytes.Equal(got, msg) {
					err = fmt.Errorf("stream %d: echo mismatch", s.StreamID())
				}
				errs <- err
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestOracleDatagrams(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		ctx := testCtx(t)
		// Unreliable by definition: resend until each side got one.
		ourGot, goGot := make(chan []byte, 1), make(chan []byte, 1)
		go func() {
			d, err := p.ours.ReceiveDatagram(ctx)
			if err == nil {
				ourGot <- d
			}
		}()
		go func() {
			d, err := p.theirs.ReceiveDatagram(ctx)
			if err == nil {
				goGot <- d
			}
		}()
		var fromGo, fromUs []byte
		for fromGo == nil || fromUs == nil {
			if fromUs == nil {
				if err := p.ours.SendDatagram([]byte("from ours")); err != nil {
					t.Fatal(err)
				}
			}
			if fromGo == nil {
				if err := p.theirs.SendDatagram([]byte("from quic-go")); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case fromGo = <-ourGot:
			case fromUs = <-goGot:
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				t.Fatal("datagrams did not arrive")
			}
		}
		if string(fromGo) != "from quic-go" || string(fromUs) != "from ours" {
			t.Fatalf("got %q / %q", fromGo, fromUs)
		}
	})
}

func TestOracleCloseOurs(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		p.ours.Close(42, "ours says bye")
		select {
		case <-p.theirs.Context().Done():
		case <-time.After(5 * time.Second):
			t.Fatal("quic-go did not see the close")
		}
		var ae *quicgo.ApplicationError
		if err := context.Cause(p.theirs.Context()); !errors.As(err, &ae) || !ae.Remote || ae.ErrorCode != 42 || ae.ErrorMessage != "ours says bye" {
			t.Fatalf("quic-go saw %v", err)
		}
	})
}

func TestOracleCloseTheirs(t *testing.T) {
	forBothOracles(t, func(t *testing.T, p oraclePair) {
		p.theirs.CloseWithError(43, "quic-go says bye")
		select {
		case <-p.ours.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("we did not see the close")
		}
		var ae *ApplicationError
		if !errors.As(p.ours.Err(), &ae) || !ae.Remote || ae.Code != 43 || ae.Reason != "quic-go says bye" {
			t.Fatalf("we saw %v", p.ours.Err())
		}
	})
}
