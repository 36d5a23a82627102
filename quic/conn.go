package quic

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// Conn is a QUIC connection. Its methods are safe for concurrent use.
type Conn struct {
	ep  *Endpoint
	log *slog.Logger

	// mu guards the core and everything derived from its events.
	mu         sync.Mutex
	core       *core.Conn
	streams    map[streams.StreamID]*Stream
	err        error // why the connection closed; nil while open
	remoteID   identity.EndpointID
	alpn       string
	abandoned  bool // stop as soon as the CONNECTION_CLOSE is out
	handshaken bool

	// Incoming datagrams, handed over by the endpoint's reader.
	inMu    sync.Mutex
	inQ     []inDatagram
	inSpare []inDatagram
	wakeCh  chan struct{} // cap 1: the driver has work

	handshakeCh chan struct{} // closed when the handshake completes
	closedCh    chan struct{} // closed when the connection closes
	doneCh      chan struct{} // closed when the driver has stopped
	acceptSig   [2]chan struct{}
	openSig     [2]chan struct{}
	dgramSig    chan struct{}
	pathSig     chan struct{}    // a path event happened
	addrSig     chan struct{}    // the peer reported our address (QAD)
	pathWait    map[PathID]error // OpenPath calls in progress: nil until done
	events      connEvents       // PathsChanged and AckedChanged waiters

	ctx            context.Context
	cancel         context.CancelCauseFunc
	handshakeTimer *time.Timer
	qlog           *qlogWriter
	fine           fineTimer // the driver's: wakes it on time for hole punching

	// send is the driver's batch while a round has datagrams to write;
	// between rounds it goes back to sendPool, so idle connections hold
	// no send buffer.
	send *sendBuffer
}

// sendBuffer is one driver round's datagrams, laid back to back in slab so
// runs of equal size to one address can go out as one GSO send.
type sendBuffer struct {
	batch [sendBatch]outDatagram
	slab  [sendBatch * sendBufSize]byte
}

var sendPool = sync.Pool{New: func() any { return new(sendBuffer) }}

type inDatagram struct {
	buf  *[]byte
	n    int
	from Addr
}

type outDatagram struct {
	off, n int // position in slab
	to     Addr
}

const (
	maxQueuedDatagrams = 1024
	sendBatch          = 16
	sendBufSize        = 1500
)

func newConn(e *Endpoint, cc *core.Conn) *Conn {
	c := &Conn{
		ep:          e,
		log:         e.log,
		core:        cc,
		streams:     make(map[streams.StreamID]*Stream),
		wakeCh:      make(chan struct{}, 1),
		handshakeCh: make(chan struct{}),
		closedCh:    make(chan struct{}),
		doneCh:      make(chan struct{}),
		dgramSig:    make(chan struct{}, 1),
		pathSig:     make(chan struct{}, 1),
		addrSig:     make(chan struct{}, 1),
		pathWait:    make(map[PathID]error),
	}
	for i := range c.acceptSig {
		c.acceptSig[i] = make(chan struct{}, 1)
		c.openSig[i] = make(chan struct{}, 1)
	}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	if e.cfg.QlogDir != "" {
		c.qlog = newQlog(e.cfg.QlogDir, cc, e.log)
	}
	return c
}

// signal wakes one waiter on a capacity-1 channel without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *Conn) wake() { signal(c.wakeCh) }

// deliver queues a datagram for the driver; it takes ownership of bp.
func (c *Conn) deliver(bp *[]byte, n int, from Addr) {
	c.inMu.Lock()
	if len(c.inQ) >= maxQueuedDatagrams {
		c.inMu.Unlock()
		c.ep.putBuf(bp) // like a full socket buffer: drop
		return
	}
	c.inQ = append(c.inQ, inDatagram{bp, n, from})
	c.inMu.Unlock()
	c.wake()
}

// OpenStream opens a bidirectional stream, waiting while the peer's stream
// limit is reached.
func (c *Conn) OpenStream(ctx context.Context) (*Stream, error) { return c.open(ctx, true) }

// OpenUniStream opens a unidirectional (send-only) stream.
func (c *Conn) OpenUniStream(ctx context.Context) (*Stream, error) { return c.open(ctx, false) }

func dirIndex(bidi bool) int {
	if bidi {
		return int(streams.Bidi)
	}
	return int(streams.Uni)
}

func (c *Conn) open(ctx context.Context, bidi bool) (*Stream, error) {
	d := dirIndex(bidi)
	for {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		id, err := c.core.Streams().Open(bidi)
		if err == nil {
			s := c.streamLocked(id)
			c.mu.Unlock()
			signal(c.openSig[d]) // let another waiting opener retry
			return s, nil
		}
		c.mu.Unlock()
		if !errors.Is(err, core.ErrStreamLimitReached) {
			return nil, err
		}
		c.wake() // STREAMS_BLOCKED is queued
		select {
		case <-c.openSig[d]:
		case <-c.closedCh:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// AcceptStream waits for the peer to open a bidirectional stream.
func (c *Conn) AcceptStream(ctx context.Context) (*Stream, error) { return c.accept(ctx, true) }

// AcceptUniStream waits for the peer to open a unidirectional stream.
func (c *Conn) AcceptUniStream(ctx context.Context) (*Stream, error) { return c.accept(ctx, false) }

func (c *Conn) accept(ctx context.Context, bidi bool) (*Stream, error) {
	d := dirIndex(bidi)
	for {
		c.mu.Lock()
		id, ok := c.core.Streams().Accept(bidi)
		if ok {
			s := c.streamLocked(id)
			c.mu.Unlock()
			signal(c.acceptSig[d]) // more may be waiting
			return s, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-c.acceptSig[d]:
		case <-c.closedCh:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// SendDatagram sends an unreliable datagram (RFC 9221). It fails with
// ErrDatagramTooLarge when p does not fit in one packet.
func (c *Conn) SendDatagram(p []byte) error {
	c.mu.Lock()
	err := c.err
	if err == nil {
		err = c.core.Datagrams().Send(p)
	}
	c.mu.Unlock()
	if err == nil {
		c.wake()
	}
	return err
}

// ReceiveDatagram waits for the next datagram from the peer.
func (c *Conn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		d, ok := c.core.Datagrams().Recv()
		err := c.err
		c.mu.Unlock()
		if ok {
			signal(c.dgramSig)
			return d, nil
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-c.dgramSig:
		case <-c.closedCh:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// MaxDatagramSize is the largest payload SendDatagram accepts now; zero
// when the peer does not accept datagrams.
func (c *Conn) MaxDatagramSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.Datagrams().MaxSize()
}

// RemoteID is the peer's EndpointId, proven by the handshake.
func (c *Conn) RemoteID() identity.EndpointID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteID
}

// RemoteAddr is the path the connection currently uses.
func (c *Conn) RemoteAddr() Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.RemoteAddr()
}

// ALPN is the negotiated application protocol.
func (c *Conn) ALPN() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alpn
}

// Close closes the connection with an application error code and reason,
// and returns once the CONNECTION_CLOSE is on its way.
func (c *Conn) Close(code uint64, reason string) error {
	c.closeCore(code, reason)
	<-c.closedCh
	return nil
}

// CloseWithError is Close with the arguments of an *ApplicationError.
func (c *Conn) CloseWithError(e *ApplicationError) error { return c.Close(e.Code, e.Reason) }

func (c *Conn) closeCore(code uint64, reason string) {
	c.mu.Lock()
	if c.err == nil {
		c.core.Close(time.Now(), code, reason)
	}
	c.mu.Unlock()
	c.wake()
}

// abandon closes a connection nobody will use (a failed Dial): it stops as
// soon as the CONNECTION_CLOSE is sent instead of lingering three PTOs.
func (c *Conn) abandon(err error) {
	c.mu.Lock()
	c.abandoned = true
	if c.err == nil {
		c.core.Close(time.Now(), 0, err.Error())
	}
	c.mu.Unlock()
	c.wake()
}

// abandonIfPending is the server-side handshake timeout.
func (c *Conn) abandonIfPending(err error) {
	c.mu.Lock()
	pending := !c.handshaken
	c.mu.Unlock()
	if pending {
		c.abandon(err)
	}
}

// Err is why the connection closed, or nil while it is open: an
// *ApplicationError, a *TransportError, ErrIdleTimeout or ErrStatelessReset.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the connection closes.
func (c *Conn) Done() <-chan struct{} { return c.closedCh }

// Context is canceled, with Err as its cause, when the connection closes.
func (c *Conn) Context() context.Context { return c.ctx }

// ForceKeyUpdate starts a 1-RTT key update as soon as RFC 9001 allows.
func (c *Conn) ForceKeyUpdate() {
	c.mu.Lock()
	c.core.ForceKeyUpdate()
	c.mu.Unlock()
	c.wake()
}

// Stats are a connection's counters.
type Stats struct {
	RTT, MinRTT                               time.Duration
	CongestionWindow                          int
	BytesSent, BytesReceived                  uint64
	PacketsSent, PacketsReceived, PacketsLost uint64
	KeyUpdates                                uint64
	KeyUpdatesInitiated                       uint64 // the KeyUpdates we started; the rest followed the peer
	// CurrentMTU is the data path's UDP payload size: 1200 until PMTU
	// probes succeed, then up to 1452.
	CurrentMTU                               int
	MTUProbesSent, MTUProbesLost, BlackHoles uint64
	// Migrations are peer address changes we validated (servers) and our
	// own moves (Migrate) the peer answered; MigrationsReverted those
	// given up for the old address or the old path's estimates.
	Migrations, MigrationsReverted uint64
}

// Stats returns a snapshot of the connection's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	s := c.core.Stats()
	c.mu.Unlock()
	return Stats{
		RTT: s.SmoothedRTT, MinRTT: s.MinRTT, CongestionWindow: s.CongestionWindow,
		BytesSent: s.BytesSent, BytesReceived: s.BytesReceived,
		PacketsSent: s.PacketsSent, PacketsReceived: s.PacketsReceived, PacketsLost: s.PacketsLost,
		KeyUpdates: s.KeyUpdates, KeyUpdatesInitiated: s.KeyUpdatesInitiated,
		CurrentMTU: s.MaxDatagramSize, MTUProbesSent: s.MTUProbesSent, MTUProbesLost: s.MTUProbesLost,
		BlackHoles: s.BlackHoles, Migrations: s.Migrations, MigrationsReverted: s.MigrationsReverted,
	}
}

// streamLocked returns the Stream for id, creating it. c.mu is held.
func (c *Conn) streamLocked(id streams.StreamID) *Stream {
	if s := c.streams[id]; s != nil {
		return s
	}
	s := newStream(c, id)
	c.streams[id] = s
	return s
}

// forgetLocked drops a stream both of whose halves are finished.
func (c *Conn) forgetLocked(s *Stream) {
	if s.recvDone && s.sendDone {
		delete(c.streams, s.id)
	}
}
