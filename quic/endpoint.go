package quic

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/endpointcore"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

// ErrNotListening: Accept on an endpoint configured without ALPNs.
var ErrNotListening = errors.New("quic: endpoint accepts no connections (Config.ALPNs is empty)")

const (
	recvBufSize    = 2048 // larger than any datagram we advertise (1472)
	respBufSize    = 512  // a Retry, Version Negotiation or stateless reset
	acceptQueueLen = 64
)

// Endpoint owns a Transport and the connections that run over it. The
// routing, admission and accept decisions are its sans-IO core's
// (internal/endpointcore); the Endpoint moves datagrams and time.
type Endpoint struct {
	tr       Transport
	cfg      Config
	key      identity.SecretKey
	id       identity.EndpointID
	resetKey core.ResetKey
	keyLog   io.Writer
	keyLogC  io.Closer
	log      *slog.Logger
	// tlsMode is how we present our identity: raw public keys as iroh;
	// tests against quic-go and crypto/tls use self-signed X.509.
	tlsMode handshake.Mode

	mu sync.Mutex // guards ep
	ep *endpointcore.Endpoint[*Conn]

	acceptSig  chan struct{} // cap 1: a connection may wait in ep's accept queue
	closing    chan struct{} // closed by Close: drivers flush and exit
	readerDone chan struct{}
	drivers    sync.WaitGroup
	bufs       sync.Pool // *[]byte of recvBufSize

	natAddrs atomic.Pointer[[]netip.AddrPort] // SetNatAddresses
}

// NewEndpoint starts an endpoint on tr. It takes ownership of tr: Close
// closes it.
func NewEndpoint(tr Transport, cfg *Config) (*Endpoint, error) {
	return newEndpoint(tr, cfg, handshake.ModeRawPublicKey)
}

func newEndpoint(tr Transport, cfg *Config, mode handshake.Mode) (*Endpoint, error) {
	e := &Endpoint{
		tr:         tr,
		tlsMode:    mode,
		acceptSig:  make(chan struct{}, 1),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if cfg != nil {
		e.cfg = *cfg
	}
	e.key = e.cfg.SecretKey
	if e.key.IsZero() {
		k, err := identity.GenerateSecretKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		e.key = k
	}
	e.id = e.key.Public()
	e.resetKey = resetKeyFor(e.key)
	var err error
	if e.keyLog, e.keyLogC, err = openKeyLog(&e.cfg); err != nil {
		return nil, err
	}
	ecfg := endpointcore.Config{
		MaxIncoming: e.cfg.MaxIncomingConnections,
		Admission:   e.cfg.admission(),
		ResetKey:    &e.resetKey,
		AcceptQueue: acceptQueueLen,
	}
	if len(e.cfg.ALPNs) > 0 {
		ecfg.Server = e.serverCoreConfig(&handshake.Config{ALPN: e.cfg.ALPNs})
	}
	if e.ep, err = endpointcore.New[*Conn](ecfg); err != nil {
		return nil, err
	}
	e.log = e.cfg.Logger
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("endpoint", e.id.Short())
	e.bufs.New = func() any { b := make([]byte, recvBufSize); return &b }
	go e.readLoop()
	return e, nil
}

// ID is this endpoint's EndpointId (its Ed25519 public key).
func (e *Endpoint) ID() identity.EndpointID { return e.id }

// LocalAddr is the transport's local address.
func (e *Endpoint) LocalAddr() net.Addr { return e.tr.LocalAddr() }

// Dial connects to the endpoint peer at to, speaking alpn, and returns once
// the handshake completed. ctx and Config.HandshakeTimeout bound the wait.
// A server presenting another key than peer fails with a *TransportError
// carrying TLS alert 48 (unknown_ca).
func (e *Endpoint) Dial(ctx context.Context, to Addr, peer identity.EndpointID, alpn string) (*Conn, error) {
	if alpn == "" {
		return nil, ErrNoALPN
	}
	tls := &handshake.Config{ALPN: []string{alpn}, PeerKey: peer.PublicKey()}
	cc, err := core.NewClient(e.coreConfig(tls), time.Now(), to)
	if err != nil {
		return nil, err
	}
	c := newConn(e, cc)
	if err := e.register(c); err != nil {
		return nil, err
	}
	timer := time.NewTimer(e.cfg.handshakeTimeout())
	defer timer.Stop()
	select {
	case <-c.handshakeCh:
		return c, nil
	case <-c.closedCh:
		// A connection that completed and closed at once still counts.
		select {
		case <-c.handshakeCh:
			return c, nil
		default:
		}
		return nil, handshakeError(c.Err())
	case <-ctx.Done():
		c.abandon(ctx.Err())
		return nil, ctx.Err()
	case <-timer.C:
		c.abandon(ErrHandshakeTimeout)
		return nil, ErrHandshakeTimeout
	}
}

// Accept returns the next incoming connection whose handshake completed.
func (e *Endpoint) Accept(ctx context.Context) (*Conn, error) {
	if len(e.cfg.ALPNs) == 0 {
		return nil, ErrNotListening
	}
	for {
		e.mu.Lock()
		c, ok := e.ep.Accepted()
		e.mu.Unlock()
		if ok {
			signal(e.acceptSig) // more may be waiting
			return c, nil
		}
		select {
		case <-e.acceptSig:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.closing:
			return nil, ErrClosed
		}
	}
}

// Close closes every connection with application code 0, sends the
// CONNECTION_CLOSE packets, stops all goroutines and closes the transport.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.ep.Closed() {
		e.mu.Unlock()
		return nil
	}
	conns := e.ep.Close()
	e.mu.Unlock()
	for _, c := range conns {
		c.closeCore(0, "")
	}
	close(e.closing)
	e.drivers.Wait()
	err := e.tr.Close()
	<-e.readerDone
	if e.keyLogC != nil {
		e.keyLogC.Close()
	}
	return err
}

// register makes the client connection c reachable by its CIDs and starts
// its driver.
func (e *Endpoint) register(c *Conn) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.ep.Connect(c, c.core); err != nil {
		return ErrClosed
	}
	e.drivers.Add(1)
	go c.run()
	return nil
}

// unregister forgets c once its driver stops.
func (e *Endpoint) unregister(c *Conn) {
	e.mu.Lock()
	e.ep.Remove(c)
	e.mu.Unlock()
	e.drivers.Done()
}

func (e *Endpoint) getBuf() *[]byte  { return e.bufs.Get().(*[]byte) }
func (e *Endpoint) putBuf(b *[]byte) { e.bufs.Put(b) }

// readLoop is the endpoint's only reader of the transport.
func (e *Endpoint) readLoop() {
	defer close(e.readerDone)
	var resp [respBufSize]byte
	for {
		bp := e.getBuf()
		n, from, err := e.tr.ReadFrom(*bp)
		if err != nil {
			e.putBuf(bp)
			select {
			case <-e.closing:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			e.log.Debug("transport read failed", "err", err)
			continue
		}
		if !e.route(bp, n, from, resp[:0]) {
			e.putBuf(bp)
		}
	}
}

// route carries out the core's verdict on a datagram and reports whether
// a connection took the buffer.
func (e *Endpoint) route(bp *[]byte, n int, from Addr, resp []byte) bool {
	e.mu.Lock()
	r := e.ep.Handle(time.Now(), from, (*bp)[:n], resp)
	if r.Action == endpointcore.NewConn {
		r.Conn = e.startServerConn(r.Incoming)
	}
	e.mu.Unlock()
	switch r.Action {
	case endpointcore.Deliver, endpointcore.NewConn:
		r.Conn.deliver(bp, n, from)
		return true
	case endpointcore.Respond:
		_ = e.tr.WriteTo(r.Response, from)
	}
	if r.Err != nil {
		e.log.Debug("server connection refused", "err", r.Err)
	}
	return false
}

// startServerConn wraps and starts a connection the core accepted. e.mu
// is held.
func (e *Endpoint) startServerConn(in *endpointcore.Incoming) *Conn {
	c := newConn(e, in.Core)
	e.ep.Adopt(in, c)
	e.drivers.Add(1)
	c.handshakeTimer = time.AfterFunc(e.cfg.handshakeTimeout(), func() { c.abandonIfPending(ErrHandshakeTimeout) })
	go c.run()
	return c
}

// handshakeDone tells the core c's handshake completed: a server
// connection joins the accept queue.
func (e *Endpoint) handshakeDone(c *Conn) {
	e.mu.Lock()
	e.ep.HandshakeDone(c)
	e.mu.Unlock()
	if c.core.Side() == core.Server {
		signal(e.acceptSig)
	}
}
