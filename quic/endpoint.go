package quic

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic/internal/admission"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// ErrNotListening: Accept on an endpoint configured without ALPNs.
var ErrNotListening = errors.New("quic: endpoint accepts no connections (Config.ALPNs is empty)")

const (
	recvBufSize    = 2048 // larger than any datagram we advertise (1472)
	acceptQueueLen = 64
)

// Endpoint owns a Transport and the connections that run over it.
type Endpoint struct {
	tr       Transport
	cfg      Config
	key      identity.SecretKey
	id       identity.EndpointID
	resetKey core.ResetKey
	keyLog   io.Writer
	keyLogC  io.Closer
	log      *slog.Logger

	mu       sync.Mutex
	gate     *admission.Gate  // which Initials may start a connection
	incoming int              // server connections held
	routes   map[string]*Conn // our CIDs and client-chosen Initial DCIDs
	// resetIdx maps the peers' stateless reset tokens to connections.
	resetIdx map[core.ResetToken]*Conn
	conns    map[*Conn]struct{}
	closed   bool

	acceptQ    chan *Conn
	closing    chan struct{} // closed by Close: drivers flush and exit
	readerDone chan struct{}
	drivers    sync.WaitGroup
	limiter    rateLimiter
	bufs       sync.Pool // *[]byte of recvBufSize
}

// NewEndpoint starts an endpoint on tr. It takes ownership of tr: Close
// closes it.
func NewEndpoint(tr Transport, cfg *Config) (*Endpoint, error) {
	e := &Endpoint{
		tr:         tr,
		routes:     make(map[string]*Conn),
		resetIdx:   make(map[core.ResetToken]*Conn),
		conns:      make(map[*Conn]struct{}),
		acceptQ:    make(chan *Conn, acceptQueueLen),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
		limiter:    rateLimiter{limit: resetsPerSecond},
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
	if _, err := io.ReadFull(rand.Reader, e.resetKey[:]); err != nil {
		return nil, err
	}
	var err error
	if e.gate, err = admission.New(e.cfg.admission(), rand.Reader); err != nil {
		return nil, err
	}
	if e.keyLog, e.keyLogC, err = openKeyLog(&e.cfg); err != nil {
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
	if err := e.register(c, nil); err != nil {
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
	select {
	case c := <-e.acceptQ:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.closing:
		return nil, ErrClosed
	}
}

// Close closes every connection with application code 0, sends the
// CONNECTION_CLOSE packets, stops all goroutines and closes the transport.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	conns := make([]*Conn, 0, len(e.conns))
	for c := range e.conns {
		conns = append(conns, c)
	}
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

// register makes c reachable by its CIDs (and extra route keys) and starts
// its driver.
func (e *Endpoint) register(c *Conn, extra []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	for _, id := range c.core.LocalCIDs() {
		e.routes[string(id[:])] = c
		c.routeKeys = append(c.routeKeys, string(id[:]))
	}
	if extra != nil {
		e.routes[string(extra)] = c
		c.routeKeys = append(c.routeKeys, string(extra))
	}
	e.conns[c] = struct{}{}
	e.drivers.Add(1)
	go c.run()
	return nil
}

func (e *Endpoint) addRoute(c *Conn, cid []byte) {
	e.mu.Lock()
	e.routes[string(cid)] = c
	e.mu.Unlock()
}

func (e *Endpoint) removeRoute(c *Conn, cid []byte) {
	e.mu.Lock()
	if e.routes[string(cid)] == c {
		delete(e.routes, string(cid))
	}
	e.mu.Unlock()
}

// unregister forgets every route to c once its driver stops.
func (e *Endpoint) unregister(c *Conn, keys []string, tokens []core.ResetToken) {
	e.mu.Lock()
	e.leftLocked(c)
	e.dropResetTokensLocked(c, tokens)
	for _, k := range keys {
		if e.routes[k] == c {
			delete(e.routes, k)
		}
	}
	delete(e.conns, c)
	e.mu.Unlock()
	e.drivers.Done()
}

func (e *Endpoint) getBuf() *[]byte  { return e.bufs.Get().(*[]byte) }
func (e *Endpoint) putBuf(b *[]byte) { e.bufs.Put(b) }

// readLoop is the endpoint's only reader of the transport.
func (e *Endpoint) readLoop() {
	defer close(e.readerDone)
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
		if !e.route(bp, n, from) {
			e.putBuf(bp)
		}
	}
}

// route hands a datagram to its connection and reports whether the
// connection took the buffer.
func (e *Endpoint) route(bp *[]byte, n int, from Addr) bool {
	b := (*bp)[:n]
	class, h := classify(b)
	switch class {
	case classDrop:
		return false
	case classVersionNeg:
		e.sendVersionNegotiation(&h, from)
		return false
	}
	e.mu.Lock()
	c := e.routes[string(h.DCID)]
	var retry []byte
	if c == nil && class == classInitial && !e.closed && len(e.cfg.ALPNs) > 0 && acceptableInitial(n, &h) {
		c, retry = e.admitLocked(from, &h)
	}
	e.mu.Unlock()
	if retry != nil {
		_ = e.tr.WriteTo(retry, from)
	}
	if c != nil {
		c.deliver(bp, n, from)
		return true
	}
	if class == classShort {
		// A stateless reset carries no CID of ours; the token at its end
		// tells which connection it ends (RFC 9000 §10.3.1).
		if c := e.resetTarget(b); c != nil {
			c.deliver(bp, n, from)
			return true
		}
		e.sendStatelessReset(n, h.DCID, from)
	}
	return false
}

// newServerConn starts a server connection for a fresh Initial; odcid is
// set when the Initial answers our Retry. e.mu is held.
func (e *Endpoint) newServerConn(from Addr, h *wire.Header, odcid []byte) *Conn {
	local := make([]byte, core.LocalCIDLen)
	if _, err := rand.Read(local); err != nil {
		return nil
	}
	tls := &handshake.Config{ALPN: e.cfg.ALPNs}
	var cc *core.Conn
	var err error
	if odcid != nil {
		cc, err = core.NewServerRetry(e.serverCoreConfig(tls), time.Now(), from, odcid, h.DCID, h.SCID, local)
	} else {
		cc, err = core.NewServer(e.serverCoreConfig(tls), time.Now(), from, h.DCID, h.SCID, local)
	}
	if err != nil {
		e.log.Debug("server connection refused", "err", err)
		return nil
	}
	c := newConn(e, cc)
	first := string(h.DCID) // the client's Initials carry it until it learns ours
	e.routes[first] = c
	e.routes[string(local)] = c
	c.routeKeys = append(c.routeKeys, first, string(local))
	e.conns[c] = struct{}{}
	e.drivers.Add(1)
	c.handshakeTimer = time.AfterFunc(e.cfg.handshakeTimeout(), func() { c.abandonIfPending(ErrHandshakeTimeout) })
	go c.run()
	return c
}

// enqueueAccepted offers a server connection to Accept; a full queue
// refuses it.
func (e *Endpoint) enqueueAccepted(c *Conn) bool {
	select {
	case e.acceptQ <- c:
		return true
	default:
		return false
	}
}

func (e *Endpoint) sendStatelessReset(triggerLen int, dcid []byte, to Addr) {
	// A closing endpoint sends none: its CONNECTION_CLOSE packets are on
	// their way (perhaps over a slower relay path), and a reset racing
	// them would hide the application's close code from the peer.
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed || len(dcid) != core.LocalCIDLen || !e.limiter.allow(time.Now()) {
		return
	}
	var buf [maxResetSize]byte
	pkt, ok := appendStatelessReset(buf[:0], triggerLen, e.resetKey.Token(dcid), rand.Reader)
	if ok {
		_ = e.tr.WriteTo(pkt, to)
	}
}

func (e *Endpoint) sendVersionNegotiation(h *wire.Header, to Addr) {
	if !e.limiter.allow(time.Now()) {
		return
	}
	var unused [1]byte
	_, _ = rand.Read(unused[:])
	if pkt, ok := appendVersionNegotiation(nil, h, unused[0]); ok {
		_ = e.tr.WriteTo(pkt, to)
	}
}
