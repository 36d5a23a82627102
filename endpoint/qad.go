package endpoint

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/quic"
)

// QAD retry schedule: a failed probe is retried with exponential backoff
// between these bounds; a connection that ended (idle timeout, relay
// restart) is replaced after qadRetryMin.
const (
	qadRetryMin = 1 * time.Second
	qadRetryMax = 30 * time.Second
)

// ErrQADNoRelay: Options.RelayQAD was set without a relay.
var ErrQADNoRelay = errors.New("endpoint: RelayQAD needs a relay (Options.RelayURL or the preset's relays)")

// QADStatus is what QUIC Address Discovery against the home relay found.
type QADStatus struct {
	// Enabled is Preset.QAD or Options.RelayQAD (with a relay).
	Enabled bool
	// Server is the QAD endpoint probed (the home relay's host and QAD
	// port), and ServerName the name its certificate is verified for;
	// empty while there is no home relay.
	Server     string
	ServerName string
	// Observed is our public address as the relays last saw it (IPv4 if
	// known, else IPv6); zero until the first answer.
	Observed netip.AddrPort
	// Err is the last probe's error, nil after a success.
	Err error
}

// qadState is the endpoint's QAD client state. version counts changes of
// the observed addresses, so that path managers notice them with one
// comparison.
type qadState struct {
	mu       sync.Mutex
	target   qadTarget
	observed [2]netip.AddrPort // IPv4, IPv6
	version  uint64
	err      error
	live     *quic.Conn // the kept connection to the home relay
	liveURL  string

	cancel context.CancelFunc
	done   chan struct{}
}

func newQADState() *qadState { return &qadState{done: make(chan struct{})} }

// QADStatus reports QUIC Address Discovery against the home relay.
func (e *Endpoint) QADStatus() QADStatus {
	q := e.qad
	if q == nil {
		return QADStatus{}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	st := QADStatus{Enabled: true, Observed: q.primaryLocked(), Err: q.err}
	if q.target.port != 0 {
		st.Server, st.ServerName = q.target.String(), q.target.serverName
	}
	return st
}

func (q *qadState) primaryLocked() netip.AddrPort {
	if q.observed[0].IsValid() {
		return q.observed[0]
	}
	return q.observed[1]
}

// PublicAddr is our public (reflexive) address as a relay's QAD endpoint
// last reported it (IPv4 if known, else IPv6); false until one answered.
func (e *Endpoint) PublicAddr() (netip.AddrPort, bool) {
	if e.qad == nil {
		return netip.AddrPort{}, false
	}
	e.qad.mu.Lock()
	defer e.qad.mu.Unlock()
	ap := e.qad.primaryLocked()
	return ap, ap.IsValid()
}

// publicAddrs are the observed IPv4 and IPv6 addresses that are known.
func (e *Endpoint) publicAddrs() []netip.AddrPort {
	if e.qad == nil {
		return nil
	}
	e.qad.mu.Lock()
	defer e.qad.mu.Unlock()
	var out []netip.AddrPort
	for _, ap := range e.qad.observed {
		if ap.IsValid() {
			out = append(out, ap)
		}
	}
	return out
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
// once known, our public IPv4 and IPv6 addresses as QAD reported them and
// the external address of our port mapping.
func (e *Endpoint) Candidates() []netip.AddrPort {
	out := e.Addrs()
	for _, pub := range e.publicAddrs() {
		out = withObserved(out, pub)
	}
	if mapped, ok := e.mappedAddr(); ok {
		out = withObserved(out, mapped)
	}
	return out
}

// withObserved appends obs to addrs unless it is zero or already there.
func withObserved(addrs []netip.AddrPort, obs netip.AddrPort) []netip.AddrPort {
	if !obs.IsValid() || slices.Contains(addrs, obs) {
		return addrs
	}
	return append(slices.Clip(addrs), obs)
}

// setObserved records a reported public address in its family's slot;
// path managers are woken to pick the change up.
func (e *Endpoint) setObserved(ap netip.AddrPort) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if !ap.IsValid() {
		return
	}
	slot := 0
	if ap.Addr().Is6() {
		slot = 1
	}
	q := e.qad
	q.mu.Lock()
	changed := ap != q.observed[slot]
	if changed {
		q.observed[slot] = ap
		q.version++
	}
	q.err = nil
	q.mu.Unlock()
	if changed {
		e.log.Info("endpoint: public address", "addr", ap)
		e.candidatesChanged()
		e.publish()
	}
}

// forgetObserved drops the public addresses learnt on the network we
// just left; QAD redials and reports the new ones.
func (e *Endpoint) forgetObserved() {
	q := e.qad
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.observed != [2]netip.AddrPort{} {
		q.observed = [2]netip.AddrPort{}
		q.version++
	}
}

// liveRTT is the kept QAD connection's current RTT, as a probe result
// for its relay.
func (q *qadState) liveRTT() (probeResult, bool) {
	q.mu.Lock()
	c, url := q.live, q.liveURL
	q.mu.Unlock()
	if c == nil || c.Err() != nil {
		return probeResult{}, false
	}
	kind := probeQAD4
	if ra := c.RemoteAddr(); !ra.IsRelay() && ra.UDP.Addr().Unmap().Is6() {
		kind = probeQAD6
	}
	return probeResult{url: url, kind: kind, latency: c.Stats().RTT}, true
}

func (q *qadState) setLive(c *quic.Conn, url string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.live, q.liveURL = c, url
}

func (q *qadState) setTarget(t qadTarget) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.target = t
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

// runQAD keeps one QAD connection open to the home relay from our own
// socket (iroh keeps one too), follows the home relay when it changes,
// and records every address it reports.
func (e *Endpoint) runQAD(ctx context.Context) {
	for ctx.Err() == nil {
		home, changed := e.homes.current()
		n, _ := e.homes.node(home)
		t, err := qadTargetOf(n)
		if home == "" || err != nil {
			e.qad.setTarget(qadTarget{})
			if home != "" {
				e.qad.setErr(err)
			}
			select {
			case <-changed:
			case <-ctx.Done():
			}
			continue
		}
		e.qad.setTarget(t)
		hctx, cancel := untilClosed(ctx, changed)
		e.keepQAD(hctx, home, t)
		cancel()
	}
}

// keepQAD holds a QAD connection to t until ctx ends, redialing with
// backoff after failures and qadRetryMin after a connection ended.
func (e *Endpoint) keepQAD(ctx context.Context, url string, t qadTarget) {
	q := e.qad
	backoff := qadRetryMin
	for ctx.Err() == nil {
		e.metrics.QADProbes.Add(1)
		c, err := e.dialQAD(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.metrics.QADErrors.Add(1)
			q.setErr(err)
			e.log.Debug("endpoint: QAD probe", "server", t, "err", err)
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, qadRetryMax)
			continue
		}
		backoff = qadRetryMin
		q.setLive(c, url)
		prev, _ := c.ObservedAddress()
		for {
			ap, err := c.WaitObservedAddress(ctx, prev)
			if err != nil {
				break
			}
			e.setObserved(ap)
			prev = ap
		}
		q.setLive(nil, "")
		_ = c.Close(quic.QADCloseCode, quic.QADCloseReason)
		if !sleepCtx(ctx, qadRetryMin) {
			return
		}
	}
}

// dialQAD resolves the QAD endpoint (IPv4 first on a dual-stack socket),
// dials it and records the first report.
func (e *Endpoint) dialQAD(ctx context.Context, t qadTarget) (*quic.Conn, error) {
	have4, have6 := e.families()
	to, err := resolveFamily(ctx, t.host, t.port, !have4)
	if err != nil && have4 && have6 {
		to, err = resolveFamily(ctx, t.host, t.port, true)
	}
	if err != nil {
		return nil, err
	}
	ap, c, err := e.q.DialAddressDiscovery(ctx, to, t.serverName, e.qadRoots())
	if err != nil {
		return nil, err
	}
	e.setObserved(ap)
	return c, nil
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
