package endpoint

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// Endpoint is an iroh-style endpoint: a QUIC endpoint whose datagrams
// travel over one UDP socket or through relays. Its methods are safe for
// concurrent use.
type Endpoint struct {
	opts    Options
	id      identity.EndpointID
	home    string // normalised home relay URL, "" for none
	sock    *socket
	relays  *relaySet
	q       *quic.Endpoint
	metrics *Metrics
	log     *slog.Logger
	conns   connRegistry // multipath connections' path managers
	qad     *qadState    // nil without Options.RelayQAD

	closeOnce sync.Once
	closeErr  error
}

// Bind opens the endpoint's UDP socket, starts the home relay client (it
// connects in the background; see WaitRelay) and the QUIC endpoint. ctx
// only bounds Bind itself.
func Bind(ctx context.Context, opts Options) (*Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bind := opts.BindAddr
	if bind == "" {
		bind = DefaultBindAddr
	}
	ap, err := netip.ParseAddrPort(bind)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadBindAddr, bind)
	}
	home := ""
	if opts.RelayURL != "" {
		if home, err = identity.NormalizeRelayURL(opts.RelayURL); err != nil {
			return nil, fmt.Errorf("endpoint: home relay: %w", err)
		}
	}
	var qad *qadState
	if opts.RelayQAD {
		if qad, err = newQADState(&opts, home); err != nil {
			return nil, err
		}
	}
	if opts.SecretKey.IsZero() {
		if opts.SecretKey, err = identity.GenerateSecretKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	id := opts.SecretKey.Public()
	log = log.With("endpoint", id.Short())

	// "udp" on [::] is dual-stack; an IPv4 address gets an IPv4-only
	// socket (Go would otherwise make 0.0.0.0 dual-stack too).
	network := "udp"
	if ap.Addr().Is4() {
		network = "udp4"
	}
	udp, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, fmt.Errorf("endpoint: bind %s: %w", bind, err)
	}
	// Bulk transfers outrun the default socket buffers; the kernel caps
	// what it grants, so failures are harmless.
	_ = udp.SetReadBuffer(4 << 20)
	_ = udp.SetWriteBuffer(4 << 20)

	e := &Endpoint{opts: opts, id: id, home: home, qad: qad, metrics: new(Metrics), log: log}
	e.sock = newSocket(udp, e.metrics)
	e.relays = &relaySet{
		key:        opts.SecretKey,
		token:      opts.RelayToken,
		tlsConfig:  opts.RelayTLS,
		backoffMax: opts.relayBackoffMax(),
		onStatus:   opts.OnRelayStatus,
		log:        log,
		sock:       e.sock,
		metrics:    e.metrics,
		links:      make(map[string]*relayLink),
		done:       make(chan struct{}),
	}
	e.sock.relays = e.relays
	if home != "" {
		if _, err := e.relays.get(home); err != nil {
			e.sock.Close()
			return nil, fmt.Errorf("endpoint: home relay: %w", err)
		}
	}
	var qc quic.Config
	if opts.QUIC != nil {
		qc = *opts.QUIC
	}
	qc.SecretKey = opts.SecretKey
	qc.ALPNs = opts.ALPNs
	qc.Logger = opts.Logger
	if !opts.DisableMultipath {
		qc.Multipath, qc.NatTraversal = true, true
	}
	if e.q, err = quic.NewEndpoint(e.sock, &qc); err != nil {
		e.sock.Close()
		return nil, err
	}
	e.publish()
	if e.qad != nil {
		e.startQAD()
	}
	return e, nil
}

// ID is the endpoint's EndpointId.
func (e *Endpoint) ID() identity.EndpointID { return e.id }

// HomeRelay is the normalised home relay URL, "" when there is none.
func (e *Endpoint) HomeRelay() string { return e.home }

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
	return interfaceAddrs(local.Port(), ip.Is6())
}

// Addr describes how to reach this endpoint, as iroh's Endpoint::addr: its
// id, home relay and direct addresses (Candidates: Addrs plus the QAD
// public address once known). Its String form is the endpoint's ticket.
func (e *Endpoint) Addr() identity.EndpointAddr {
	t := identity.EndpointAddr{ID: e.id, Addrs: e.Candidates()}
	if e.home != "" {
		t.Relays = []string{e.home}
	}
	return t
}

// RelayStatus reports the home relay client's state. Without a home relay
// it reports StateFailed with ErrNoHomeRelay.
func (e *Endpoint) RelayStatus() relay.Status {
	if e.home == "" {
		return relay.Status{State: relay.StateFailed, Err: ErrNoHomeRelay}
	}
	if l := e.relays.lookup(e.home); l != nil {
		return l.Status()
	}
	return relay.Status{State: relay.StateFailed, Err: ErrClosed}
}

// WaitRelay waits until the home relay client is logged in, so that peers
// can reach this endpoint through it.
func (e *Endpoint) WaitRelay(ctx context.Context) error {
	if e.home == "" {
		return ErrNoHomeRelay
	}
	l := e.relays.lookup(e.home)
	if l == nil {
		return ErrClosed
	}
	return l.client.WaitConnected(ctx)
}

// Accept returns the next incoming connection whose handshake completed.
func (e *Endpoint) Accept(ctx context.Context) (*quic.Conn, error) {
	c, err := e.q.Accept(ctx)
	if err != nil {
		return nil, err
	}
	e.track(c)
	e.managePaths(c, false, quic.Addr{})
	return c, nil
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
		if e.qad != nil {
			e.qad.cancel()
		}
		e.closeErr = e.q.Close()
		e.stopQAD()
		if e.opts.Publisher != nil {
			e.opts.Publisher.Close()
		}
	})
	return e.closeErr
}

// interfaceAddrs lists the usable unicast addresses of the up interfaces
// with port; IPv6 ones only when withV6 (a dual-stack socket).
func interfaceAddrs(port uint16, withV6 bool) []netip.AddrPort {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out, loop []netip.AddrPort
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
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
	}
	if len(out) == 0 {
		return loop
	}
	return out
}
