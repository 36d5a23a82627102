package relay

import (
	"crypto/x509"
	_ "embed"
	"sync"
)

// fallbackRootsPEM is a small set of major public roots so that static
// binaries on systems without a CA store can still verify public relays.
//
//go:embed roots/roots.pem
var fallbackRootsPEM []byte

// DefaultRoots returns the system roots plus the bundled fallback roots.
var DefaultRoots = sync.OnceValue(func() *x509.CertPool {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(fallbackRootsPEM)
	return pool
})

// FallbackRoots returns only the bundled roots.
func FallbackRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(fallbackRootsPEM)
	return pool
}
