package handshake

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// testPKI is a root CA, an intermediate and leaves for "relay.test", like
// a Let's Encrypt chain.
type testPKI struct {
	roots    *x509.CertPool
	rootKey  crypto.Signer
	root     *x509.Certificate
	interKey crypto.Signer
	inter    *x509.Certificate
}

var (
	pkiOnce sync.Once
	pki     *testPKI
	rsaKey  *rsa.PrivateKey
)

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func getPKI(t testing.TB) *testPKI {
	pkiOnce.Do(func() {
		p := &testPKI{roots: x509.NewCertPool()}
		rk, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		ik, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p.rootKey, p.interKey = rk, ik
		ca := func(serial int64, name string) *x509.Certificate {
			return &x509.Certificate{
				SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
				IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
			}
		}
		p.root = mustCert(t, ca(1, "test root"), ca(1, "test root"), rk.Public(), rk)
		p.inter = mustCert(t, ca(2, "test intermediate"), p.root, ik.Public(), rk)
		p.roots.AddCert(p.root)
		rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048)
		pki = p
	})
	return pki
}

// leaf issues a server certificate for names and returns the chain.
func (p *testPKI) leaf(t testing.TB, key crypto.Signer, names ...string) [][]byte {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: names, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	cert := mustCert(t, tmpl, p.inter, key.Public(), p.interKey)
	return [][]byte{cert.Raw, p.inter.Raw}
}

func leafKeys(t testing.TB) map[string]crypto.Signer {
	getPKI(t)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return map[string]crypto.Signer{"ecdsa-p256": p256, "ecdsa-p384": p384, "rsa": rsaKey, "ed25519": ed}
}

func webPKIClient(seed uint64, roots *x509.CertPool) *Config {
	return &Config{
		Mode: ModeWebPKI, ALPN: []string{"/iroh-qad/0"}, ServerName: "relay.test",
		Roots: roots, TransportParameters: []byte("client-tp"), Rand: testRand(seed),
	}
}

func webPKIServer(seed uint64, chain [][]byte, key crypto.Signer) *Config {
	return &Config{
		Mode: ModeWebPKI, ALPN: []string{"/iroh-qad/0"}, Certificate: chain, Signer: key,
		TransportParameters: []byte("server-tp"), Rand: testRand(seed),
	}
}

func TestWebPKIOurClientGoServer(t *testing.T) {
	p := getPKI(t)
	for name, key := range leafKeys(t) {
		for _, auth := range []tls.ClientAuthType{tls.NoClientCert, tls.RequestClientCert} {
			t.Run(name, func(t *testing.T) {
				gs := &tls.Config{
					MinVersion: tls.VersionTLS13, NextProtos: []string{"/iroh-qad/0"}, ClientAuth: auth,
					Certificates: []tls.Certificate{{Certificate: p.leaf(t, key, "relay.test"), PrivateKey: key}},
				}
				c := newOurs(t, webPKIClient(41, p.roots), true)
				s := newGo(t, gs, []byte("go-tp"), false)
				if cerr, serr := run(c, s); cerr != nil || serr != nil {
					t.Fatalf("client err %v, server err %v", cerr, serr)
				}
				if !c.res.complete || !s.res.complete {
					t.Fatal("handshake incomplete")
				}
				checkSecrets(t, c.res, s.res)
				if st := s.q.ConnectionState(); len(st.PeerCertificates) != 0 {
					t.Error("our client sent a certificate")
				}
				if st := c.c.State(); st.ALPN != "/iroh-qad/0" || len(st.PeerCertificates) != 2 || st.PeerKey != nil {
					t.Errorf("state %+v", st)
				}
			})
		}
	}
}

func TestWebPKIGoClientOurServer(t *testing.T) {
	p := getPKI(t)
	for name, key := range leafKeys(t) {
		t.Run(name, func(t *testing.T) {
			gc := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{"/iroh-qad/0"}, RootCAs: p.roots, ServerName: "relay.test"}
			c := newGo(t, gc, []byte("go-tp"), true)
			s := newOurs(t, webPKIServer(42, p.leaf(t, key, "relay.test"), key), false)
			if cerr, serr := run(c, s); cerr != nil || serr != nil {
				t.Fatalf("client err %v, server err %v", cerr, serr)
			}
			if !c.res.complete || !s.res.complete {
				t.Fatal("handshake incomplete")
			}
			checkSecrets(t, c.res, s.res)
			if st := c.q.ConnectionState(); len(st.VerifiedChains) != 1 || len(st.VerifiedChains[0]) != 3 {
				t.Errorf("Go client verified chains %v", st.VerifiedChains)
			}
		})
	}
}

func TestWebPKIOursBothSides(t *testing.T) {
	p := getPKI(t)
	key := leafKeys(t)["ecdsa-p256"]
	c := newOurs(t, webPKIClient(43, p.roots), true)
	s := newOurs(t, webPKIServer(44, p.leaf(t, key, "relay.test"), key), false)
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("client err %v, server err %v", cerr, serr)
	}
	if !c.res.complete || !s.res.complete {
		t.Fatal("handshake incomplete")
	}
	checkSecrets(t, c.res, s.res)
}

func TestWebPKIRejects(t *testing.T) {
	p := getPKI(t)
	key := leafKeys(t)["ecdsa-p256"]
	goServer := func(chain [][]byte) *goEndpoint {
		return newGo(t, &tls.Config{
			MinVersion: tls.VersionTLS13, NextProtos: []string{"/iroh-qad/0"},
			Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: key}},
		}, []byte("tp"), false)
	}
	// Another CA's chain.
	otherRoot, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(9), DNSNames: []string{"relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	stranger := mustCert(t, tmpl, tmpl, key.Public(), otherRoot)
	cerr, _ := run(newOurs(t, webPKIClient(45, p.roots), true), goServer([][]byte{stranger.Raw}))
	wantAlert(t, cerr, AlertUnknownCA)
	// A valid chain for another name.
	cerr, _ = run(newOurs(t, webPKIClient(46, p.roots), true), goServer(p.leaf(t, key, "other.test")))
	wantAlert(t, cerr, AlertBadCertificate)
	// Expired at the client's clock.
	late := webPKIClient(47, p.roots)
	late.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	cerr, _ = run(newOurs(t, late, true), goServer(p.leaf(t, key, "relay.test")))
	wantAlert(t, cerr, alertCertificateExpired)
	// A server that signs with a scheme that does not fit its key.
	c := newOurs(t, webPKIClient(48, p.roots), true)
	c.c.peerPublic, c.c.suite = key.Public(), cipherSuiteByID(TLS_AES_128_GCM_SHA256)
	err := c.c.verifyWebPKISignature(&certificateVerifyMsg{scheme: sigRSAPSSSHA256, signature: []byte{1}}, serverSignatureContext)
	wantAlert(t, err, AlertIllegalParameter)
	err = c.c.verifyWebPKISignature(&certificateVerifyMsg{scheme: sigECDSAP256SHA256, signature: []byte{1}}, serverSignatureContext)
	wantAlert(t, err, AlertDecryptError)
}

func TestWebPKIConfigChecks(t *testing.T) {
	if _, err := NewClient(&Config{Mode: ModeWebPKI, ALPN: []string{"x"}}); err == nil {
		t.Error("WebPKI client without ServerName accepted")
	}
	if _, err := NewServer(&Config{Mode: ModeWebPKI, ALPN: []string{"x"}}); err == nil {
		t.Error("WebPKI server without certificate accepted")
	}
	// A Go client offering only schemes our key cannot make.
	p := getPKI(t)
	key := leafKeys(t)["ecdsa-p384"]
	s := newOurs(t, webPKIServer(49, p.leaf(t, key, "relay.test"), key), false)
	err := s.c.selectWebPKIScheme([]uint16{sigECDSAP256SHA256, sigEd25519})
	wantAlert(t, err, AlertHandshakeFailure)
}
