package lookup

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/relay"
)

// pkarrHTTPTimeout bounds one pkarr request (iroh's publisher allows 30 s).
const pkarrHTTPTimeout = 30 * time.Second

// DefaultHTTPClient is the pkarr client used when none is given. It
// trusts what the relay client trusts: relay.DefaultRoots, the system
// roots (Go reads SSL_CERT_FILE and SSL_CERT_DIR) plus the bundled
// fallback roots; it goes through HTTPS_PROXY / HTTP_PROXY unless
// NO_PROXY says otherwise.
var DefaultHTTPClient = sync.OnceValue(func() *http.Client { return NewHTTPClient(nil) })

// NewHTTPClient returns a pkarr HTTP client trusting roots
// (relay.DefaultRoots if nil), with the proxy settings of the environment.
//
// The default roots are read at the first TLS handshake, not here: the
// system's ~150 roots take ~20 ms of CPU to parse, which a spoke should
// not spend while it connects, least of all for a publish that never
// reaches its server. Through an HTTPS proxy Go's transport does the TLS
// itself, so then they are read at once.
func NewHTTPClient(roots *x509.CertPool) *http.Client {
	load := relay.DefaultRoots
	if roots != nil {
		load = func() *x509.CertPool { return roots }
	}
	return newHTTPClient(load, os.Getenv("HTTPS_PROXY") != "" || os.Getenv("https_proxy") != "")
}

// newHTTPClient: proxied says whether an HTTPS proxy is configured (Go's
// ProxyFromEnvironment reads only HTTPS_PROXY for https URLs).
func newHTTPClient(roots func() *x509.CertPool, proxied bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	if proxied {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots(), MinVersion: tls.VersionTLS12}
	}
	tr.DialTLSContext = dialTLS(tr.DialContext, roots)
	return &http.Client{Transport: tr, Timeout: pkarrHTTPTimeout}
}

// dialTLS connects and runs the TLS handshake verifying the server's
// certificate against roots() for the dialed host (name or IP), as
// crypto/tls would with RootCAs set. HTTP/1.1 only: a PUT or GET now
// and then needs no HTTP/2.
func dialTLS(dial func(ctx context.Context, network, addr string) (net.Conn, error), roots func() *x509.CertPool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, &tls.Config{
			ServerName: host,
			RootCAs:    roots(),
			MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"},
		})
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return DefaultHTTPClient()
	}
	return c
}
