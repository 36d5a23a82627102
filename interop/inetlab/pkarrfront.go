//go:build linux

package inetlab

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// PkarrRequest is one HTTP request the pkarr front received.
type PkarrRequest struct {
	Host   string // lower case, no port, no trailing dot
	Method string
	Path   string
	TLS    bool
}

// PkarrFront serves the pkarr relay API under the lookup origins' names
// (https://dns.iroh.link/pkarr and the staging one) by passing each
// request to that origin's "irohspoke lookup-server", chosen by the Host
// header. It logs every request, and tests may replace the answer for one
// key (Override).
type PkarrFront struct {
	transport http.RoundTripper

	mu        sync.Mutex
	upstreams map[string]*httputil.ReverseProxy
	overrides map[string]http.HandlerFunc // by z-base-32 key
	log       []PkarrRequest
}

func newPkarrFront(transport http.RoundTripper) *PkarrFront {
	return &PkarrFront{transport: transport, upstreams: map[string]*httputil.ReverseProxy{}, overrides: map[string]http.HandlerFunc{}}
}

// addOrigin routes requests for host to the lookup server at upstream
// (http://IP:PORT).
func (p *PkarrFront) addOrigin(host, upstream string) error {
	u, err := url.Parse(upstream)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = p.transport
	p.mu.Lock()
	p.upstreams[canonical(host)] = rp
	p.mu.Unlock()
	return nil
}

// Override answers GET and PUT /pkarr/<z32> with h instead (nil removes it).
func (p *PkarrFront) Override(z32 string, h http.HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h == nil {
		delete(p.overrides, z32)
		return
	}
	p.overrides[z32] = h
}

// Requests returns every request received so far.
func (p *PkarrFront) Requests() []PkarrRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PkarrRequest(nil), p.log...)
}

// Count is the number of requests for host ("" for any) with method
// ("" for any).
func (p *PkarrFront) Count(host, method string) int {
	n := 0
	for _, r := range p.Requests() {
		if (host == "" || r.Host == canonical(host)) && (method == "" || r.Method == method) {
			n++
		}
	}
	return n
}

func (p *PkarrFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = canonical(host)
	key := strings.TrimPrefix(r.URL.Path, "/pkarr/")
	p.mu.Lock()
	if len(p.log) < maxQueryLogSize {
		p.log = append(p.log, PkarrRequest{Host: host, Method: r.Method, Path: r.URL.Path, TLS: r.TLS != nil})
	}
	override := p.overrides[key]
	up := p.upstreams[host]
	p.mu.Unlock()
	switch {
	case override != nil && key != r.URL.Path:
		override(w, r)
	case up != nil:
		up.ServeHTTP(w, r)
	default:
		http.Error(w, "inetlab: no lookup server for host "+host, http.StatusNotFound)
	}
}
