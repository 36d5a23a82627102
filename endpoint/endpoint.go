package endpoint

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/nat/netmon"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// Endpoint is an iroh-style endpoint: a QUIC endpoint whose datagrams
// travel over one UDP socket or through relays. Its methods are safe for
// concurrent use.
type Endpoint struct {
	opts      Options
	id        identity.EndpointID
	sock      *socket
	relays    *relaySet
	homes     *homeManager
	q         *quic.Endpoint
	metrics   *Metrics
	log       *slog.Logger
	conns     connRegistry // multipath connections' path managers
	singles   singleMoves  // client connections without multipath
	qad       *qadState    // nil without QAD
	resolver  lookup.Resolver
	publisher lookup.Publisher
	pmap      *portMapping    // nil without port mapping
	mon       *netmon.Monitor // nil without a network monitor
	hosts     hostAddrs       // the interfaces' addresses, read at changes
	announces bool            // a server with NAT traversal: see refreshNatAddresses
	monDone   chan struct{}
	// monStarted is closed once startNetmon returned (nil: no monitor).
	monStarted chan struct{}
	// netVersion counts network changes, which may change Addrs.
	netVersion atomic.Uint64
	// routeHook replaces routeSource in tests.
	routeHook atomic.Pointer[func(netip.AddrPort) (netip.Addr, error)]

	closeOnce sync.Once
	closeErr  error
}

// Bind opens the endpoint's UDP socket and QUIC endpoint and starts
// choosing a home relay: at once for a pinned or only relay, else by
// measuring the preset's relays (see NetReport). Relay clients connect in
// the background (see WaitRelay). ctx only bounds Bind itself.
func Bind(ctx context.Context, opts Options) (*Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var err error
	if opts.SecretKey.IsZero() {
		if opts.SecretKey, err = identity.GenerateSecretKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	s, err := newSetup(&opts)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	id := opts.SecretKey.Public()
	log = log.With("endpoint", id.Short())
	udp, err := listenUDP(s, log, net.ListenUDP)
	if err != nil {
		return nil, err
	}
	// Bulk transfers outrun the default socket buffers; the kernel caps
	// what it grants, so failures are harmless.
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)

	e := &Endpoint{opts: opts, id: id, metrics: new(Metrics), log: log, resolver: s.resolver, publisher: s.publisher}
	if s.qad && len(s.relays) > 0 {
		e.qad = newQADState()
	}
	e.sock = newSocket(udp, e.metrics)
	e.homes = newHomeManager(e, s)
	e.relays = &relaySet{
		key:        opts.SecretKey,
		token:      opts.RelayToken,
		tlsConfig:  opts.RelayTLS,
		backoffMax: opts.relayBackoffMax(),
		onStatus:   opts.OnRelayStatus,
		onLink:     func(url string, st relay.Status) { e.homes.linkStatus(url, st); e.candidatesChanged() },
		reconnect:  e.relayReconnected,
		log:        log,
		sock:       e.sock,
		metrics:    e.metrics,
		links:      make(map[string]*relayLink),
		done:       make(chan struct{}),
	}
	e.sock.relays = e.relays
	var qc quic.Config
	if opts.QUIC != nil {
		qc = *opts.QUIC
	}
	qc.SecretKey = opts.SecretKey
	qc.ALPNs = opts.ALPNs
	qc.Logger = opts.Logger
	if !opts.DisableMultipath {
		qc.Multipath, qc.NatTraversal = true, !opts.noNatTraversal
	}
	if e.q, err = quic.NewEndpoint(e.sock, &qc); err != nil {
		e.sock.Close()
		return nil, err
	}
	e.announces = qc.NatTraversal && len(qc.ALPNs) > 0
	e.refreshNatAddresses()
	if s.portMap {
		if err := e.startPortMapping(); err != nil {
			e.q.Close()
			return nil, err
		}
	}
	e.homes.start()
	if e.qad != nil {
		e.startQAD()
	}
	if s.netmon {
		// The monitor's first read of the interfaces takes several
		// netlink dumps; dialling need not wait for them.
		e.monStarted = make(chan struct{})
		go func() {
			defer close(e.monStarted)
			e.startNetmon()
		}()
	}
	return e, nil
}

// ID is the endpoint's EndpointId.
func (e *Endpoint) ID() identity.EndpointID { return e.id }

// HomeRelay is the normalised home relay URL, "" while there is none.
func (e *Endpoint) HomeRelay() string {
	home, _ := e.homes.current()
	return home
}

// NetReport returns the home relay, why it is home, and the relays'
// latest latencies.
func (e *Endpoint) NetReport() NetReport { return e.homes.netReport() }

// LocalAddr is the UDP socket's address.
func (e *Endpoint) LocalAddr() netip.AddrPort {
	return e.sock.udp.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Addrs are the direct UDP addresses peers can use: the bound address, or,
// for an unspecified bind address, the port on each address of the up
// interfaces (loopback only when there is nothing else).
func (e *Endpoint) Addrs() []netip.AddrPort {
	local := e.LocalAddr()
	ip := local.Addr().Unmap()
	if !ip.IsUnspecified() {
		return []netip.AddrPort{netip.AddrPortFrom(ip, local.Port())}
	}
	return interfaceAddrs(e.hosts.get(), local.Port(), ip.Is6())
}

// Addr describes how to reach this endpoint, as iroh's Endpoint::addr: its
// id, home relay and direct addresses (Candidates: Addrs plus the QAD
// public addresses and the port mapping once known). Its String form is the endpoint's ticket.
func (e *Endpoint) Addr() identity.EndpointAddr {
	t := identity.EndpointAddr{ID: e.id, Addrs: e.Candidates()}
	if home := e.HomeRelay(); home != "" {
		t.Relays = []string{home}
	}
	return t
}

// RelayStatus reports the home relay client's state: StateConnecting
// while no home relay is chosen yet, StateFailed with ErrNoHomeRelay
// without relays.
func (e *Endpoint) RelayStatus() relay.Status {
	home := e.HomeRelay()
	switch {
	case home != "":
	case len(e.homes.relays) == 0:
		return relay.Status{State: relay.StateFailed, Err: ErrNoHomeRelay}
	default:
		return relay.Status{State: relay.StateConnecting}
	}
	if l := e.relays.lookup(home); l != nil {
		return l.Status()
	}
	return relay.Status{State: relay.StateFailed, Err: ErrClosed}
}

// WaitRelay waits until a home relay is chosen and its client is logged
// in, so that peers can reach this endpoint through it. A failover while
// waiting moves the wait to the new home relay.
func (e *Endpoint) WaitRelay(ctx context.Context) error {
	if len(e.homes.relays) == 0 {
		return ErrNoHomeRelay
	}
	for {
		home, changed := e.homes.current()
		if home == "" {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return fmt.Errorf("endpoint: no home relay yet (%s): %w", e.NetReport().summary(), ctx.Err())
			}
		}
		l := e.relays.lookup(home)
		if l == nil {
			return ErrClosed
		}
		wctx, cancel := untilClosed(ctx, changed)
		err := l.client.WaitConnected(wctx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-changed: // moved: wait for the new home
		default:
			return err
		}
	}
}

// Accept returns the next incoming connection whose handshake completed.
func (e *Endpoint) Accept(ctx context.Context) (*quic.Conn, error) {
	c, err := e.q.Accept(ctx)
	if err != nil {
		return nil, err
	}
	e.track(c)
	e.managePaths(c, false, nil)
	e.monitorReady()
	return c, nil
}

// monitorReady waits until the network monitor, if any, is watching, so
// that a change after a connection was made is noticed. Its start takes
// less than a handshake, so this rarely waits.
func (e *Endpoint) monitorReady() {
	if e.monStarted != nil {
		<-e.monStarted
	}
}

// track counts an opened connection and, once it ends, its closing.
func (e *Endpoint) track(c *quic.Conn) {
	e.metrics.ConnsOpened.Add(1)
	if c.RemoteAddr().IsRelay() {
		e.metrics.ConnsRelay.Add(1)
	} else {
		e.metrics.ConnsDirect.Add(1)
	}
	go func() {
		<-c.Done()
		e.metrics.ConnsClosed.Add(1)
	}()
}

// Close closes every connection (application code 0), the relay clients
// and the socket, and waits for the endpoint's goroutines to end.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		e.sock.closing.Store(true)
		e.monitorReady()
		e.stopNetmon()
		if e.qad != nil {
			e.qad.cancel()
		}
		// The mapping is deleted at the gateway while the rest closes.
		unmapped := make(chan struct{})
		go func() {
			defer close(unmapped)
			e.stopPortMapping()
		}()
		e.homes.stop()
		e.closeErr = e.q.Close()
		e.stopQAD()
		<-unmapped
		if e.publisher != nil {
			e.publisher.Close()
		}
	})
	return e.closeErr
}

// interfaceAddrs lists the usable unicast addresses among the host's
// addresses with port; IPv6 ones only when withV6 (a dual-stack socket).
func interfaceAddrs(host []netip.Addr, port uint16, withV6 bool) []netip.AddrPort {
	var out, loop []netip.AddrPort
	for _, ip := range host {
		if ip.IsLinkLocalUnicast() || ip.IsMulticast() || (ip.Is6() && !withV6) {
			continue
		}
		ap := netip.AddrPortFrom(ip, port)
		if ip.IsLoopback() {
			loop = append(loop, ap)
		} else {
			out = append(out, ap)
		}
	}
	if len(out) == 0 {
		return loop
	}
	return out
}
