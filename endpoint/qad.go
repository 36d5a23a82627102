package endpoint

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// QAD retry schedule: a failed probe is retried with exponential backoff
// between these bounds; a connection that ended (idle timeout, relay
// restart) is replaced after qadRetryMin.
const (
	qadRetryMin = 1 * time.Second
	qadRetryMax = 30 * time.Second
)

// ErrQADNoRelay: Options.RelayQAD was set without a home relay.
var ErrQADNoRelay = errors.New("endpoint: RelayQAD needs a home relay (Options.RelayURL)")

// QADStatus is what QUIC Address Discovery against the home relay found.
type QADStatus struct {
	// Enabled is Options.RelayQAD (with a home relay).
	Enabled bool
	// Server is the QAD endpoint probed, and ServerName the name its
	// certificate is verified for (the home relay URL's host).
	Server     string
	ServerName string
	// Observed is our public address as the relay last saw it; zero
	// until the first answer.
	Observed netip.AddrPort
	// Err is the last probe's error, nil after a success.
	Err error
}

// qadState is the endpoint's QAD client state. version counts changes of
// observed, so that path managers notice them with one comparison.
type qadState struct {
	server     string // host:port of the QAD endpoint
	serverName string
	roots      *x509.CertPool

	mu       sync.Mutex
	observed netip.AddrPort
	version  uint64
	err      error

	cancel context.CancelFunc
	done   chan struct{}
}

// newQADState works out the QAD endpoint from the options: the home
// relay's host, port RelayQADPort (quic.DefaultQADPort if zero), verified
// against RelayTLS.RootCAs (relay.DefaultRoots if nil).
func newQADState(opts *Options, home string) (*qadState, error) {
	if home == "" {
		return nil, ErrQADNoRelay
	}
	u, err := url.Parse(home)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("endpoint: QAD server from relay URL %q: %v", home, err)
	}
	port := opts.RelayQADPort
	if port == 0 {
		port = quic.DefaultQADPort
	}
	roots := relay.DefaultRoots()
	if opts.RelayTLS != nil && opts.RelayTLS.RootCAs != nil {
		roots = opts.RelayTLS.RootCAs
	}
	return &qadState{
		server:     net.JoinHostPort(u.Hostname(), strconv.Itoa(int(port))),
		serverName: u.Hostname(),
		roots:      roots,
		done:       make(chan struct{}),
	}, nil
}

// QADStatus reports QUIC Address Discovery against the home relay.
func (e *Endpoint) QADStatus() QADStatus {
	q := e.qad
	if q == nil {
		return QADStatus{}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return QADStatus{Enabled: true, Server: q.server, ServerName: q.serverName, Observed: q.observed, Err: q.err}
}

// PublicAddr is our public (reflexive) address as the home relay's QAD
// endpoint last reported it; false until it answered once.
func (e *Endpoint) PublicAddr() (netip.AddrPort, bool) {
	if e.qad == nil {
		return netip.AddrPort{}, false
	}
	e.qad.mu.Lock()
	defer e.qad.mu.Unlock()
	return e.qad.observed, e.qad.observed.IsValid()
}

// qadVersion counts changes of the observed address (0: none yet).
func (e *Endpoint) qadVersion() uint64 {
	if e.qad == nil {
		return 0
	}
	e.qad.mu.Lock()
	defer e.qad.mu.Unlock()
	return e.qad.version
}

// Candidates are the addresses we offer for hole punching: Addrs plus,
// once QAD has reported it, our public address.
func (e *Endpoint) Candidates() []netip.AddrPort {
	pub, _ := e.PublicAddr()
	return withObserved(e.Addrs(), pub)
}

// withObserved appends obs to addrs unless it is zero or already there.
func withObserved(addrs []netip.AddrPort, obs netip.AddrPort) []netip.AddrPort {
	if !obs.IsValid() || slices.Contains(addrs, obs) {
		return addrs
	}
	return append(slices.Clip(addrs), obs)
}

// setObserved records a reported public address; path managers pick the
// change up on their next poll.
func (e *Endpoint) setObserved(ap netip.AddrPort) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	q := e.qad
	q.mu.Lock()
	changed := ap != q.observed
	if changed {
		q.observed = ap
		q.version++
	}
	q.err = nil
	q.mu.Unlock()
	if changed {
		e.log.Info("endpoint: public address", "addr", ap, "qad", q.server)
	}
}

func (q *qadState) setErr(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
}

// startQAD runs the QAD client until Close.
func (e *Endpoint) startQAD() {
	ctx, cancel := context.WithCancel(context.Background())
	e.qad.cancel = cancel
	go func() {
		defer close(e.qad.done)
		e.runQAD(ctx)
	}()
}

// stopQAD ends the QAD client and waits for it.
func (e *Endpoint) stopQAD() {
	if e.qad == nil || e.qad.cancel == nil {
		return
	}
	e.qad.cancel()
	<-e.qad.done
}

// runQAD keeps one QAD connection to the home relay open from our own
// socket (iroh does the same), records every address it reports, and
// replaces it when it ends.
func (e *Endpoint) runQAD(ctx context.Context) {
	q := e.qad
	backoff := qadRetryMin
	for ctx.Err() == nil {
		e.metrics.QADProbes.Add(1)
		c, err := e.probeQAD(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.metrics.QADErrors.Add(1)
			q.setErr(err)
			e.log.Debug("endpoint: QAD probe", "server", q.server, "err", err)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, qadRetryMax)
			continue
		}
		backoff = qadRetryMin
		prev, _ := c.ObservedAddress()
		for {
			ap, err := c.WaitObservedAddress(ctx, prev)
			if err != nil {
				break
			}
			e.setObserved(ap)
			prev = ap
		}
		_ = c.Close(quic.QADCloseCode, quic.QADCloseReason)
		if !sleepCtx(ctx, qadRetryMin) {
			return
		}
	}
}

// probeQAD resolves the QAD endpoint, dials it and records the first
// report.
func (e *Endpoint) probeQAD(ctx context.Context) (*quic.Conn, error) {
	q := e.qad
	to, err := resolveUDP(ctx, q.server, e.LocalAddr().Addr().Is4())
	if err != nil {
		return nil, err
	}
	ap, c, err := e.q.DialAddressDiscovery(ctx, to, q.serverName, q.roots)
	if err != nil {
		return nil, err
	}
	e.setObserved(ap)
	return c, nil
}

// resolveUDP turns host:port into an address our socket can reach (IPv4
// only for an IPv4 socket).
func resolveUDP(ctx context.Context, hostport string, v4Only bool) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap, nil
	}
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	network := "ip"
	if v4Only {
		network = "ip4"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("endpoint: no address for %s", host)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(port)), nil
}

// sleepCtx waits d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
