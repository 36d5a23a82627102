package lookup

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
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
func NewHTTPClient(roots *x509.CertPool) *http.Client {
	if roots == nil {
		roots = relay.DefaultRoots()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: pkarrHTTPTimeout}
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return DefaultHTTPClient()
	}
	return c
}
