package endpoint

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/relay"
)

// homeManager owns the home relay: it runs net reports on iroh's schedule,
// applies homeSelector's choice, fails over when the home relay stays
// down, and tells the rest of the endpoint (relay client, publisher, QAD)
// when home changes.
type homeManager struct {
	e      *Endpoint
	relays []RelayNode
	pinned bool

	mu        sync.Mutex
	sel       *homeSelector
	home      string
	epoch     chan struct{} // closed and replaced when home changes (or QAD must redial)
	report    NetReport
	lastFull  time.Time
	answered  bool // the last report had a latency
	searching bool // a failover found nowhere to go and asked for a report

	netChange chan bool     // NetworkChanged requests; true: major
	linkEvent chan struct{} // the home relay client's status changed

	cancel context.CancelFunc
	done   chan struct{}
}

func newHomeManager(e *Endpoint, s *setup) *homeManager {
	h := &homeManager{
		e: e, relays: s.relays, pinned: s.pinned,
		epoch:     make(chan struct{}),
		netChange: make(chan bool, 1),
		linkEvent: make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	order := make([]string, len(s.relays))
	for i, n := range s.relays {
		order[i] = n.URL
	}
	h.sel = newHomeSelector(order)
	h.report.Relays = make([]RelayLatency, len(order))
	for i, u := range order {
		h.report.Relays[i].URL = u
	}
	return h
}

// choosing: more than one relay and none pinned, so reports decide.
func (h *homeManager) choosing() bool { return !h.pinned && len(h.relays) > 1 }

// start picks the home of a pinned or one-relay map at once, or starts
// the report loop.
func (h *homeManager) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	if !h.choosing() {
		close(h.done)
		if len(h.relays) == 1 {
			reason := reasonOnly
			if h.pinned {
				reason = reasonPinned
			}
			h.sel.home = h.relays[0].URL
			h.setHome(h.relays[0].URL, reason)
		}
		return
	}
	go h.run(ctx)
}

func (h *homeManager) stop() {
	if h.cancel != nil {
		h.cancel()
	}
	<-h.done
}

// current returns the home relay ("" if none) and a channel closed when
// it changes.
func (h *homeManager) current() (string, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.home, h.epoch
}

// node returns the relay map entry for url.
func (h *homeManager) node(url string) (RelayNode, bool) {
	for _, n := range h.relays {
		if n.URL == url {
			return n, true
		}
	}
	return RelayNode{}, false
}

// netReport returns a copy of the current state.
func (h *homeManager) netReport() NetReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.report
	r.Home, r.Reason = h.home, h.sel.reason
	r.Relays = append([]RelayLatency(nil), h.report.Relays...)
	for i := range r.Relays {
		r.Relays[i].Best = h.sel.bestRecent(r.Relays[i].URL)
		r.Relays[i].Down = h.sel.isDown(r.Relays[i].URL)
	}
	return r
}

// networkChanged asks for a report (full after a major change); after a
// major change the QAD connection is redialed from the new network.
func (h *homeManager) networkChanged(major bool) {
	if major {
		h.mu.Lock()
		h.bumpLocked()
		h.mu.Unlock()
	}
	if !h.choosing() {
		return
	}
	h.requestReport(major)
}

// requestReport queues a report for the loop, merging with a queued one.
func (h *homeManager) requestReport(major bool) {
	for {
		select {
		case h.netChange <- major:
			return
		case prev := <-h.netChange:
			major = major || prev
		}
	}
}

// linkStatus is the relay set's hook: it wakes the loop when the home
// relay client's state changes.
func (h *homeManager) linkStatus(url string, _ relay.Status) {
	if home, _ := h.current(); url != home {
		return
	}
	select {
	case h.linkEvent <- struct{}{}:
	default:
	}
}

// setHome makes url home: its relay client starts (and logs in), the
// publisher and QAD follow, observers are told.
func (h *homeManager) setHome(url, reason string) {
	h.mu.Lock()
	prev := h.home
	h.home, h.report.HomeSince = url, time.Now()
	h.bumpLocked()
	h.mu.Unlock()
	e := h.e
	if _, err := e.relays.get(url); err != nil {
		e.log.Warn("endpoint: home relay client", "relay", url, "err", err)
	}
	e.metrics.RelayHomeChange.Add(1)
	if reason == reasonFailover {
		e.metrics.RelayFailovers.Add(1)
	}
	e.log.Info("endpoint: home relay", "relay", url, "previous", prev, "reason", reason)
	e.publish()
	h.notify()
}

func (h *homeManager) bumpLocked() {
	close(h.epoch)
	h.epoch = make(chan struct{})
}

func (h *homeManager) notify() {
	if f := h.e.opts.OnNetReport; f != nil {
		f(h.netReport())
	}
}

// run is the report loop: a full report at once, then one every 20–26 s
// (full every 5 minutes or after a major network change), one at a time.
func (h *homeManager) run(ctx context.Context) {
	defer close(h.done)
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	reports := make(chan relayReport, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	running, queued, queuedFull := false, false, false
	launch := func(forceFull bool) {
		if running {
			queued, queuedFull = true, queuedFull || forceFull
			return
		}
		running = true
		plan := h.plan(time.Now(), forceFull)
		wg.Go(func() {
			r, results := h.e.runReport(ctx, plan)
			h.record(plan, results)
			reports <- r
		})
	}
	launch(true)
	periodic := time.NewTimer(nextReportDelay(rng))
	defer periodic.Stop()
	failover := time.NewTimer(time.Hour)
	failover.Stop()
	defer failover.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-reports:
			running = false
			h.apply(r)
			periodic.Reset(nextReportDelay(rng))
			if queued {
				queued = false
				launch(queuedFull)
				queuedFull = false
			}
			h.checkLink(failover)
		case <-periodic.C:
			launch(false)
		case major := <-h.netChange:
			launch(major)
		case <-h.linkEvent:
			h.checkLink(failover)
		case <-failover.C:
			h.checkLink(failover)
		}
	}
}

// plan decides what the next report probes, as iroh: a full report QADs
// the first relays and HTTPS-probes all; an incremental one reuses the
// kept QAD connection's RTT and HTTPS-probes only if the last report got
// no answer.
func (h *homeManager) plan(now time.Time, forceFull bool) reportPlan {
	h.mu.Lock()
	full := fullReportDue(now, h.lastFull, forceFull)
	if full {
		h.lastFull = now
	}
	answered := h.answered
	h.mu.Unlock()
	e := h.e
	p := reportPlan{full: full}
	p.have4, p.have6 = e.families()
	if full || !answered {
		for _, n := range h.relays {
			p.https = append(p.https, n.URL)
		}
	}
	if e.qad == nil {
		return p
	}
	if !full {
		if live, ok := e.qad.liveRTT(); ok {
			p.live = live
			return p
		}
	}
	for _, n := range h.relays {
		if n.QADPort != 0 && len(p.qad) < maxQADRelays {
			p.qad = append(p.qad, n)
		}
	}
	return p
}

// record keeps the latest result of every relay the report probed for
// NetReport (an incremental report leaves the others as they were).
func (h *homeManager) record(plan reportPlan, results []probeResult) {
	probed := map[string]bool{plan.live.url: true}
	for _, n := range plan.qad {
		probed[n.URL] = true
	}
	for _, u := range plan.https {
		probed[u] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.report.Relays {
		rl := &h.report.Relays[i]
		if !probed[rl.URL] {
			continue
		}
		rl.Latency, rl.Probe, rl.Err = 0, "", nil
		for _, res := range results {
			switch {
			case res.url != rl.URL:
			case res.err == nil && (rl.Latency == 0 || res.latency < rl.Latency):
				rl.Latency, rl.Probe, rl.Err = res.latency, res.kind.String(), nil
			case res.err != nil && rl.Latency == 0:
				rl.Err = res.err
			}
		}
	}
	h.report.Full = plan.full
}

// apply feeds a finished report to the selector and acts on its choice.
func (h *homeManager) apply(r relayReport) {
	// A relay we failed over from counts again once its client is back.
	for url := range r.latency {
		h.mu.Lock()
		down := h.sel.isDown(url)
		h.mu.Unlock()
		if down && h.e.relays.down(url) {
			delete(r.latency, url)
		}
	}
	h.mu.Lock()
	prev := h.sel.home
	home, changed := h.sel.add(r)
	reason := h.sel.reason
	h.answered, h.searching = len(r.latency) > 0, false
	h.report.At, h.report.Reports = time.Now(), h.report.Reports+1
	h.mu.Unlock()
	h.e.metrics.NetReports.Add(1)
	if r.full {
		h.e.metrics.NetReportsFull.Add(1)
	}
	h.e.log.Debug("endpoint: net report", "full", r.full, "latency", r.latency, "home", home, "previous", prev)
	h.e.procureMapping() // as iroh, every report
	if changed {
		h.setHome(home, reason)
		return
	}
	h.notify()
}

// checkLink arms or fires the failover timer from the home relay
// client's state.
func (h *homeManager) checkLink(timer *time.Timer) {
	home, _ := h.current()
	if home == "" {
		return
	}
	now, up := time.Now(), !h.e.relays.down(home)
	h.mu.Lock()
	h.sel.homeLink(now, up)
	due, when := h.sel.failoverDue(now)
	next, moved := "", false
	if due {
		next, moved = h.sel.failover(now)
	}
	search := due && !moved && !h.searching
	h.searching = h.searching || search
	h.mu.Unlock()
	switch {
	case moved:
		h.setHome(next, reasonFailover)
	case search:
		// Nowhere known to go: keep redialing, and look for relays now.
		h.e.log.Warn("endpoint: home relay down and no other relay known to answer", "relay", home)
		h.requestReport(false)
	case !due && !when.IsZero():
		timer.Reset(time.Until(when))
	}
}

// families says which address families our socket can probe: IPv4
// unless bound to an IPv6 address, IPv6 if the socket is IPv6 and some
// interface has a global IPv6 address (loopback-only hosts have none).
func (e *Endpoint) families() (have4, have6 bool) {
	local := e.LocalAddr().Addr()
	if local.Is4() || local.Is4In6() {
		return true, false
	}
	have4 = local.IsUnspecified()
	if !local.IsUnspecified() {
		return have4, !local.IsLoopback()
	}
	return have4, hasGlobalIPv6()
}

func hasGlobalIPv6() bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err == nil && p.Addr().Is6() && !p.Addr().Is4In6() && p.Addr().IsGlobalUnicast() {
			return true
		}
	}
	return false
}

// untilClosed is a context that ends with ctx or when ch is closed (the
// home relay changed). Cancel it to release its goroutine.
func untilClosed(ctx context.Context, ch <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
