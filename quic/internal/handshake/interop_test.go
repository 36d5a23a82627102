package handshake

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
)

// These tests run our engine in X.509 mode against Go's crypto/tls QUIC API.

func goCert(t *testing.T, k ed25519.PrivateKey) tls.Certificate {
	t.Helper()
	der, err := selfSignedCertificate(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// pinKey accepts exactly one self-signed certificate carrying want.
func pinKey(want ed25519.PublicKey) func([][]byte, [][]*x509.Certificate) error {
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

func x509Configs(seed uint64) (client, server *Config) {
	client, server = rpkConfigs(seed)
	client.Mode, server.Mode = ModeX509, ModeX509
	return client, server
}

func goServerConfig(t *testing.T, key ed25519.PrivateKey, clientKey ed25519.PublicKey) *tls.Config {
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{goCert(t, key)},
		NextProtos:            []string{"alkpubsub/1"},
		ClientAuth:            tls.RequireAnyClientCert,
		VerifyPeerCertificate: pinKey(clientKey),
	}
}

func TestInteropOurClientGoServer(t *testing.T) {
	for _, suite := range []uint16{TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256} {
		t.Run(fmt.Sprintf("%#04x", suite), func(t *testing.T) {
			ccfg, scfg := x509Configs(31)
			ccfg.CipherSuites = []uint16{suite}
			c := newOurs(t, ccfg, true)
			s := newGo(t, goServerConfig(t, scfg.PrivateKey, pub(ccfg.PrivateKey)), []byte("go-server-tp"), false)
			if cerr, serr := run(c, s); cerr != nil || serr != nil {
				t.Fatalf("client err %v, server err %v", cerr, serr)
			}
			if !c.res.complete || !s.res.complete {
				t.Fatal("handshake incomplete")
			}
			checkSecrets(t, c.res, s.res)
			if string(c.res.peerTP) != "go-server-tp" || string(s.res.peerTP) != "client-tp" {
				t.Errorf("transport parameters %q / %q", c.res.peerTP, s.res.peerTP)
			}
			if !bytes.Equal(c.c.State().PeerKey, pub(scfg.PrivateKey)) || c.c.State().ALPN != "alkpubsub/1" {
				t.Errorf("state %+v", c.c.State())
			}
			gs := s.q.ConnectionState()
			if len(gs.PeerCertificates) != 1 {
				t.Error("Go server did not receive our client certificate")
			}
			ours, _ := c.c.ExportKeyingMaterial("label", []byte("ctx"), 32)
			theirs, err := gs.ExportKeyingMaterial("label", []byte("ctx"), 32)
			if err != nil || !bytes.Equal(ours, theirs) {
				t.Errorf("exporter mismatch: %x vs %x (%v)", ours, theirs, err)
			}
		})
	}
}

func TestInteropGoClientOurServer(t *testing.T) {
	ccfg, scfg := x509Configs(32)
	s := newOurs(t, scfg, false)
	gc := &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{goCert(t, ccfg.PrivateKey)},
		NextProtos:            []string{"alkpubsub/1"},
		InsecureSkipVerify:    true, // verification is the key pin below
		VerifyPeerCertificate: pinKey(pub(scfg.PrivateKey)),
	}
	c := newGo(t, gc, []byte("go-client-tp"), true)
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("client err %v, server err %v", cerr, serr)
	}
	if !c.res.complete || !s.res.complete {
		t.Fatal("handshake incomplete")
	}
	checkSecrets(t, c.res, s.res)
	if !bytes.Equal(s.c.State().PeerKey, pub(ccfg.PrivateKey)) {
		t.Error("our server did not learn the Go client's key")
	}
	if string(s.res.peerTP) != "go-client-tp" || string(c.res.peerTP) != "server-tp" {
		t.Errorf("transport parameters %q / %q", s.res.peerTP, c.res.peerTP)
	}
	// Our server's tickets must parse in crypto/tls.
	if err := s.c.SendSessionTicket(); err != nil {
		t.Fatal(err)
	}
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("after ticket: client err %v, server err %v", cerr, serr)
	}
}

func TestInteropGoClientNoCertificate(t *testing.T) {
	_, scfg := x509Configs(33)
	s := newOurs(t, scfg, false)
	gc := &tls.Config{
		MinVersion: tls.VersionTLS13, NextProtos: []string{"alkpubsub/1"},
		InsecureSkipVerify: true, VerifyPeerCertificate: pinKey(pub(scfg.PrivateKey)),
	}
	_, serr := run(newGo(t, gc, nil, true), s)
	wantAlert(t, serr, AlertCertificateRequired)
}

// TestInteropGoServerWithoutCertificateRequest: like a rustls client, ours
// completes without a client certificate when none is requested.
func TestInteropGoServerWithoutCertificateRequest(t *testing.T) {
	ccfg, scfg := x509Configs(34)
	gs := goServerConfig(t, scfg.PrivateKey, nil)
	gs.ClientAuth, gs.VerifyPeerCertificate = tls.NoClientCert, nil
	c := newOurs(t, ccfg, true)
	s := newGo(t, gs, []byte("tp"), false)
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("client err %v, server err %v", cerr, serr)
	}
	if !c.res.complete || !s.res.complete {
		t.Fatal("handshake incomplete")
	}
	checkSecrets(t, c.res, s.res)
}

func TestInteropWrongPeerKey(t *testing.T) {
	ccfg, scfg := x509Configs(35)
	ccfg.PeerKey = pub(testKey(9))
	c := newOurs(t, ccfg, true)
	s := newGo(t, goServerConfig(t, scfg.PrivateKey, pub(ccfg.PrivateKey)), []byte("tp"), false)
	cerr, _ := run(c, s)
	wantAlert(t, cerr, AlertUnknownCA)
	if c.res.complete || c.res.write[LevelApplication] != nil {
		t.Error("client progressed past a wrong server key")
	}
}

func TestInteropNoCommonALPN(t *testing.T) {
	ccfg, scfg := x509Configs(36)
	ccfg.ALPN = []string{"other/1"}
	// Our client against a Go server: crypto/tls raises alert 120.
	_, serr := run(newOurs(t, ccfg, true), newGo(t, goServerConfig(t, scfg.PrivateKey, pub(ccfg.PrivateKey)), nil, false))
	var ae tls.AlertError
	if !errors.As(serr, &ae) || ae != tls.AlertError(AlertNoApplicationProtocol) {
		t.Errorf("Go server error %v, want alert 120", serr)
	}
	// A Go client against our server: we raise alert 120.
	gc := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{"nope/1"}, InsecureSkipVerify: true}
	_, serr = run(newGo(t, gc, nil, true), newOurs(t, scfg, false))
	wantAlert(t, serr, AlertNoApplicationProtocol)
}
