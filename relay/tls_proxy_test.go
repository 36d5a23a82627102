package relay

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// testCA makes a CA and a server certificate for 127.0.0.1 and localhost.
func testCA(t *testing.T) (*x509.CertPool, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "irohspoke test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestExchangeTLS(t *testing.T) {
	pool, cert := testCA(t)
	srv := startServer(t, ServerConfig{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}, "")
	trust := func(c *ClientConfig) { c.TLSConfig = &tls.Config{RootCAs: pool} }
	a := dialClient(t, srv.URL, newKey(t), trust)
	b := dialClient(t, srv.URL, newKey(t), trust)
	exchange(t, a, b, "over tls")
	exchange(t, b, a, "back over tls")
	// Both logged in through the TLS keying-material header, no challenge.
	if got := srv.Metrics().KeyingMaterialAuths.Load(); got != 2 {
		t.Fatalf("keying_material_auths = %d", got)
	}
	// Without the test CA the certificate is not trusted.
	ctx, cancel := contextWithTimeout(300 * time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, ClientConfig{URL: srv.URL, SecretKey: newKey(t), Proxy: NoProxy, Logger: discard}); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
}

func TestFallbackRootsParse(t *testing.T) {
	if n := len(FallbackRoots().Subjects()); n < 20 { //nolint:staticcheck // counting is all we need
		t.Fatalf("only %d bundled roots", n)
	}
}

func TestResolveTarget(t *testing.T) {
	cases := []struct {
		in, hostPort, path string
		tls                bool
		sni                string
	}{
		{"http://127.0.0.1:3340/", "127.0.0.1:3340", "/relay", false, "127.0.0.1"},
		{"https://use1-1.relay.n0.iroh.link./", "use1-1.relay.n0.iroh.link.:443", "/relay", true, "use1-1.relay.n0.iroh.link"},
		{"http://example.com/some/path?x=1", "example.com:80", "/relay?x=1", false, "example.com"},
		{"wss://[::1]:8443", "[::1]:8443", "/relay", true, "::1"},
	}
	for _, c := range cases {
		tg, _, err := resolveTarget(c.in)
		if err != nil || tg.hostPort != c.hostPort || tg.path != c.path || tg.useTLS != c.tls || tg.host != c.sni {
			t.Errorf("%s: %+v %v", c.in, tg, err)
		}
	}
	if _, _, err := resolveTarget("not a url"); !errors.Is(err, ErrBadURL) {
		t.Fatal(err)
	}
}

// connectProxy is a minimal HTTP CONNECT proxy requiring user:pass.
func connectProxy(t *testing.T) (*url.URL, *atomic.Int64) {
	var tunnels atomic.Int64
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pa ss"))
	addr := serveEach(t, func(nc net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil || req.Method != http.MethodConnect {
			return
		}
		if req.Header.Get("Proxy-Authorization") != want {
			_, _ = io.WriteString(nc, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
			return
		}
		up, err := net.Dial("tcp", req.Host)
		if err != nil {
			_, _ = io.WriteString(nc, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		tunnels.Add(1)
		_, _ = io.WriteString(nc, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, nc); up.Close() }()
		_, _ = io.Copy(nc, up)
	})
	return &url.URL{Scheme: "http", User: url.UserPassword("user", "pa ss"), Host: addr}, &tunnels
}

func TestConnectProxy(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	pu, tunnels := connectProxy(t)
	viaProxy := func(c *ClientConfig) { c.Proxy = http.ProxyURL(pu) }
	a := dialClient(t, srv.URL, newKey(t), viaProxy)
	b := dialClient(t, srv.URL, newKey(t), nil)
	exchange(t, a, b, "through the proxy")
	exchange(t, b, a, "and back")
	if tunnels.Load() != 1 {
		t.Fatalf("tunnels = %d", tunnels.Load())
	}
	// Wrong credentials: the proxy refuses and the dial fails.
	bad := *pu
	bad.User = url.UserPassword("user", "nope")
	ctx, cancel := contextWithTimeout(300 * time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, ClientConfig{URL: srv.URL, SecretKey: newKey(t), Proxy: http.ProxyURL(&bad), Logger: discard})
	if !errors.Is(err, ErrProxy) {
		t.Fatalf("err %v", err)
	}
}
