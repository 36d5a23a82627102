package portmap

import (
	"context"
	"net/netip"
	"sync"

	"github.com/alkdev/irohspoke/nat/internal/slot"
	"github.com/alkdev/irohspoke/nat/portmap/natpmp"
	"github.com/alkdev/irohspoke/nat/portmap/pcp"
)

// Mapper keeps a mapping for one local UDP port. Its methods are safe for
// concurrent use.
type Mapper struct {
	events chan Event
	cmds   chan command
	done   chan struct{}
	cancel context.CancelFunc // aborts gateway traffic in flight

	mu      sync.Mutex
	current Event
	stats   Stats

	closeOnce sync.Once
	closeErr  error
	inert     bool
}

// env is what the loop talks to, replaceable in tests.
type env struct {
	clock   Clock
	route   func(local netip.AddrPort) (route, error)
	clients [4]client // indexed by Protocol; nil when disabled
	logf    func(format string, args ...any)
}

// New starts a Mapper for the UDP socket bound to local and, unless it is
// inert, asks for a mapping right away. It is inert (never sends anything)
// when opts.Disabled is set, every protocol is disabled, or local is a
// loopback or an IPv6-only address: a port on those cannot be reached
// through an IPv4 NAT.
func New(local netip.AddrPort, opts Options) (*Mapper, error) {
	if local.Port() == 0 {
		return nil, ErrNoPort
	}
	e := env{clock: opts.Clock, route: systemRoute, logf: opts.Logf}
	if !opts.DisablePCP {
		e.clients[PCP] = pcpClient{port: pcp.Port, wait: pcpTimeout}
	}
	if !opts.DisableNATPMP {
		e.clients[NATPMP] = natpmpClient{port: natpmp.Port, wait: natpmpTimeout}
	}
	if !opts.DisableUPnP {
		e.clients[UPnP] = &upnpClient{targets: ssdpTargets, wait: upnpTimeout}
	}
	return start(local, opts, e), nil
}

// start runs the loop with env e (tests enter here).
func start(local netip.AddrPort, opts Options, e env) *Mapper {
	if e.clock == nil {
		e.clock = systemClock{}
	}
	if e.logf == nil {
		e.logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mapper{events: make(chan Event, 1), cmds: make(chan command), done: make(chan struct{}), cancel: cancel}
	m.inert = opts.Disabled || unmappable(local.Addr()) || e.clients == [4]client{}
	if m.inert {
		close(m.done)
		return m
	}
	l := &loop{m: m, env: e, ctx: ctx, local: local, lifetime: opts.Lifetime}
	go l.run()
	return m
}

// unmappable: loopback sockets and IPv6-only sockets get no IPv4 mapping.
func unmappable(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || (a.Is6() && !a.IsUnspecified())
}

// Events delivers every change of the external address. It holds only the
// newest event: a slow reader skips to the latest. It is closed by Close,
// after a last event without a mapping.
func (m *Mapper) Events() <-chan Event { return m.events }

// Current returns the latest event.
func (m *Mapper) Current() Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current
}

// Stats returns counters of what the Mapper did.
func (m *Mapper) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Inert reports whether the Mapper never sends anything.
func (m *Mapper) Inert() bool { return m.inert }

// Procure asks for a mapping if there is none (iroh calls this on every
// network report).
func (m *Mapper) Procure() { m.send(command{kind: cmdProcure}) }

// OnNetworkChange tells the Mapper the network changed. On a major change
// (default route or interface addresses) it re-reads the route, drops a
// mapping on a different gateway or local address, and re-probes.
func (m *Mapper) OnNetworkChange(major bool) {
	m.send(command{kind: cmdNetworkChange, major: major})
}

// Probe probes the protocols not seen available in the last 10 minutes
// and reports which ones the gateway answers.
func (m *Mapper) Probe(ctx context.Context) (ProbeResult, error) {
	if m.inert {
		return ProbeResult{}, ErrInert
	}
	reply := make(chan ProbeResult, 1)
	if !m.send(command{kind: cmdProbe, probeReply: reply}) {
		return ProbeResult{}, ErrClosed
	}
	select {
	case r := <-reply:
		return r, nil
	case <-m.done:
		return ProbeResult{}, ErrClosed
	case <-ctx.Done():
		return ProbeResult{}, ctx.Err()
	}
}

// Close deletes the mapping at the gateway (waiting at most about a
// second), stops the Mapper and closes Events.
func (m *Mapper) Close() error {
	m.closeOnce.Do(func() {
		if m.inert {
			close(m.events)
			return
		}
		m.cancel()
		reply := make(chan error, 1)
		m.cmds <- command{kind: cmdClose, closeReply: reply}
		m.closeErr = <-reply
		<-m.done
	})
	return m.closeErr
}

// send hands a command to the loop; false once the Mapper is closed.
func (m *Mapper) send(c command) bool {
	select {
	case m.cmds <- c:
		return true
	case <-m.done:
		return false
	}
}

// publish records and delivers an event, replacing an unread one.
func (m *Mapper) publish(e Event) {
	m.mu.Lock()
	m.current = e
	m.mu.Unlock()
	slot.Put(m.events, e, nil)
}

func (m *Mapper) updateStats(f func(*Stats)) {
	m.mu.Lock()
	f(&m.stats)
	m.mu.Unlock()
}
