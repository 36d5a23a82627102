package endpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// Probe timing, as iroh's net_report.
const (
	probeTimeout  = 3 * time.Second // one probe
	reportTimeout = 5 * time.Second // one report
	// HTTPS probes: attempts at 200, 300 and 400 ms into a report.
	httpsProbeOffset   = 200 * time.Millisecond
	httpsProbeSpacing  = 100 * time.Millisecond
	httpsProbeAttempts = 3
	// maxQADRelays: QAD probes go to the first relays of the map only.
	maxQADRelays  = 5
	pingBodyLimit = 8 << 10
	pingPath      = "/ping"
)

// reportPlan says what one report probes.
type reportPlan struct {
	full         bool
	qad          []RelayNode // relays to QAD-probe
	https        []string    // relays to HTTPS-probe
	have4, have6 bool
	// live is the home relay's QAD RTT from the kept connection, used
	// instead of new QAD probes in an incremental report.
	live probeResult
}

// runReport runs plan's probes concurrently until they are all done,
// enough have answered, reportTimeout passes or ctx ends. It returns the
// report and every probe's result.
func (e *Endpoint) runReport(ctx context.Context, plan reportPlan) (relayReport, []probeResult) {
	// Deferred in this order so that the probes are cancelled before
	// they are waited for.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	r := relayReport{start: time.Now(), full: plan.full, latency: make(map[string]time.Duration)}
	// Room for every result: a probe never blocks on a finished report.
	results := make(chan probeResult, 2*len(plan.qad)+httpsProbeAttempts*len(plan.https)+1)
	pending := 0
	spawn := func(f func() probeResult) {
		pending++
		wg.Go(func() { results <- f() })
	}
	if plan.live.url != "" {
		spawn(func() probeResult { return plan.live })
	}
	for _, n := range plan.qad {
		if plan.have4 {
			spawn(func() probeResult { return e.probeQAD(ctx, n, probeQAD4) })
		}
		if plan.have6 {
			spawn(func() probeResult { return e.probeQAD(ctx, n, probeQAD6) })
		}
	}
	for _, u := range plan.https {
		for i := range httpsProbeAttempts {
			delay := httpsProbeOffset + time.Duration(i)*httpsProbeSpacing
			spawn(func() probeResult {
				if !sleepCtx(ctx, delay) {
					return probeResult{url: u, kind: probeHTTPS, err: ctx.Err()}
				}
				return e.probeHTTPS(ctx, u)
			})
		}
	}
	var all []probeResult
	var counts reportCounts
	type answered struct {
		kind probeKind
		url  string
	}
	seen := make(map[answered]bool)
	qadRelays := len(plan.qad)
	if plan.live.url != "" {
		qadRelays = max(qadRelays, 1)
	}
	for ; pending > 0; pending-- {
		var res probeResult
		select {
		case res = <-results:
		case <-ctx.Done():
			return r, all
		}
		all = append(all, res)
		if res.err != nil {
			continue
		}
		if cur, ok := r.latency[res.url]; !ok || res.latency < cur {
			r.latency[res.url] = res.latency
		}
		// iroh counts relays per probe kind, not answers.
		if k := (answered{res.kind, res.url}); !seen[k] {
			seen[k] = true
			counts.add(res.kind)
		}
		if enoughReports(plan.full, plan.have4, plan.have6, qadRelays, len(plan.https), counts) {
			return r, all
		}
	}
	return r, all
}

// probeQAD measures the latency to a relay's QAD endpoint over one family
// (the handshake RTT, as iroh) from our own socket; the address it
// reports becomes our public address for that family.
func (e *Endpoint) probeQAD(ctx context.Context, n RelayNode, kind probeKind) probeResult {
	res := probeResult{url: n.URL, kind: kind}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	e.metrics.QADProbes.Add(1)
	t, err := qadTargetOf(n)
	if err == nil {
		var to netip.AddrPort
		if to, err = resolveFamily(ctx, t.host, t.port, kind == probeQAD6); err == nil {
			var obs netip.AddrPort
			var c *quic.Conn
			if obs, c, err = e.q.DialAddressDiscovery(ctx, to, t.serverName, e.qadRoots()); err == nil {
				res.latency = c.Stats().RTT
				_ = c.Close(quic.QADCloseCode, quic.QADCloseReason)
				e.setObserved(obs)
			}
		}
	}
	if err != nil {
		e.metrics.QADErrors.Add(1)
		res.err = fmt.Errorf("QAD %s: %w", kind, err)
	}
	return res
}

// probeHTTPS times GET <relay>/ping to the response headers on a fresh
// connection (so TCP and TLS are included, as iroh measures), redirects
// not followed, through the same proxy settings as the relay client.
func (e *Endpoint) probeHTTPS(ctx context.Context, relayURL string) probeResult {
	res := probeResult{url: relayURL, kind: probeHTTPS}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	res.latency, res.err = e.pingRelay(ctx, relayURL)
	return res
}

func (e *Endpoint) pingRelay(ctx context.Context, relayURL string) (time.Duration, error) {
	u, err := url.Parse(relayURL)
	if err != nil {
		return 0, err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path, u.RawQuery, u.Fragment = pingPath, "", ""
	tc := &tls.Config{ServerName: strings.TrimSuffix(u.Hostname(), "."), RootCAs: e.qadRoots()}
	if e.opts.RelayTLS != nil {
		tc = e.opts.RelayTLS.Clone()
		if tc.RootCAs == nil {
			tc.RootCAs = relay.DefaultRoots()
		}
		if tc.ServerName == "" {
			tc.ServerName = strings.TrimSuffix(u.Hostname(), ".")
		}
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tc, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("https: %w", err)
	}
	latency := time.Since(start)
	_, _ = io.CopyN(io.Discard, resp.Body, pingBodyLimit)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("https: %s answered %s", pingPath, resp.Status)
	}
	return latency, nil
}

// qadTarget is where a relay's QAD endpoint is.
type qadTarget struct {
	host       string // as in the URL (a trailing dot kept for DNS)
	port       uint16
	serverName string // for the certificate: no trailing dot
}

var errNoQAD = errors.New("relay offers no QAD (port 0)")

func qadTargetOf(n RelayNode) (qadTarget, error) {
	if n.QADPort == 0 {
		return qadTarget{}, errNoQAD
	}
	u, err := url.Parse(n.URL)
	if err != nil || u.Hostname() == "" {
		return qadTarget{}, fmt.Errorf("endpoint: QAD server from relay URL %q: %v", n.URL, err)
	}
	return qadTarget{host: u.Hostname(), port: n.QADPort, serverName: strings.TrimSuffix(u.Hostname(), ".")}, nil
}

func (t qadTarget) String() string { return net.JoinHostPort(t.host, strconv.Itoa(int(t.port))) }

// resolveFamily finds host's IPv4 (or, with v6, IPv6) address.
func resolveFamily(ctx context.Context, host string, port uint16, v6 bool) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Unmap().Is6() != v6 {
			return netip.AddrPort{}, fmt.Errorf("%s is not an IPv%d address", host, map[bool]int{false: 4, true: 6}[v6])
		}
		return netip.AddrPortFrom(ip.Unmap(), port), nil
	}
	network := "ip4"
	if v6 {
		network = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("no %s address for %s", network, host)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), port), nil
}

// qadRoots verifies relays' QAD certificates: RelayTLS.RootCAs, else the
// relay package's roots.
func (e *Endpoint) qadRoots() *x509.CertPool {
	if e.opts.RelayTLS != nil && e.opts.RelayTLS.RootCAs != nil {
		return e.opts.RelayTLS.RootCAs
	}
	return relay.DefaultRoots()
}
