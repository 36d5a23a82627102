package hub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/wire"
)

// ALPN is the protocol the hub serves.
const ALPN = "alkpubsub/1"

// Application close codes, as the iroh hub uses them, plus ours.
const (
	CloseOK            = 0
	CloseFrameTooLarge = 1
	CloseProtocol      = 2
	CloseSlowConsumer  = 3
)

// Defaults for zero Options fields.
const (
	DefaultQueueFrames   = 1024
	DefaultQueueBytes    = 8 << 20
	DefaultStreamTimeout = 30 * time.Second
)

// ErrClosed: the hub was closed.
var ErrClosed = errors.New("hub: closed")

// Router decides where an envelope goes. Route is called on the sending
// spoke's reader goroutine, in arrival order; body is the frame body exactly
// as received, which the router may keep and forward.
type Router interface {
	Route(h *Hub, from *Spoke, e wire.Envelope, body []byte)
}

// RouterFunc adapts a function to Router.
type RouterFunc func(h *Hub, from *Spoke, e wire.Envelope, body []byte)

// Route implements Router.
func (f RouterFunc) Route(h *Hub, from *Spoke, e wire.Envelope, body []byte) { f(h, from, e, body) }

// EchoFanout echoes e to its sender and forwards body to every other spoke.
var EchoFanout Router = RouterFunc(func(h *Hub, from *Spoke, e wire.Envelope, body []byte) {
	from.Reply(e.Echo())
	h.Broadcast(body, from)
})

// Options configure a Hub.
type Options struct {
	Router Router // nil: EchoFanout
	// QueueFrames and QueueBytes bound each spoke's send queue.
	QueueFrames, QueueBytes int
	// MaxFrameSize limits received frames (wire.DefaultMaxFrameSize).
	MaxFrameSize int
	// StreamTimeout is how long a new connection may take to open its
	// stream before it is closed.
	StreamTimeout time.Duration
	// OnConnect and OnDisconnect observe spokes coming and going.
	OnConnect    func(*Spoke)
	OnDisconnect func(*Spoke, error)
	Logger       *slog.Logger
}

// Hub routes alkpubsub frames between spokes.
type Hub struct {
	opts   Options
	log    *slog.Logger
	router Router

	mu     sync.Mutex
	spokes map[*Spoke]struct{}
	conns  map[*quic.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a Hub; serve connections with Serve or ServeConn.
func New(opts Options) *Hub {
	if opts.QueueFrames <= 0 {
		opts.QueueFrames = DefaultQueueFrames
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = DefaultQueueBytes
	}
	if opts.StreamTimeout <= 0 {
		opts.StreamTimeout = DefaultStreamTimeout
	}
	h := &Hub{
		opts:   opts,
		log:    opts.Logger,
		router: opts.Router,
		spokes: make(map[*Spoke]struct{}),
		conns:  make(map[*quic.Conn]struct{}),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.router == nil {
		h.router = EchoFanout
	}
	return h
}

// Acceptor is where Serve takes connections from (a *quic.Endpoint).
type Acceptor interface {
	Accept(ctx context.Context) (*quic.Conn, error)
}

// Serve accepts connections until ctx ends or the acceptor fails, serving
// each on its own goroutines. It returns nil when ctx ended.
func (h *Hub) Serve(ctx context.Context, a Acceptor) error {
	for {
		c, err := a.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !h.startConn() {
			c.Close(CloseOK, "hub shutting down")
			continue
		}
		go func() {
			defer h.wg.Done()
			h.ServeConn(ctx, c)
		}()
	}
}

// startConn counts a connection Serve is about to serve, unless the hub
// is closed: under h.mu, so that Close's wait sees every count made.
func (h *Hub) startConn() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// ServeConn serves one accepted connection until it closes.
func (h *Hub) ServeConn(ctx context.Context, c *quic.Conn) {
	if c.ALPN() != ALPN {
		c.Close(CloseProtocol, "unsupported protocol")
		return
	}
	if !h.track(c) {
		c.Close(CloseOK, "hub shutting down")
		return
	}
	defer h.untrack(c)
	sctx, cancel := context.WithTimeout(ctx, h.opts.StreamTimeout)
	stream, err := c.AcceptStream(sctx)
	cancel()
	if err != nil {
		c.Close(CloseProtocol, "no stream opened")
		return
	}
	s := newSpoke(h, c, stream)
	h.mu.Lock()
	h.spokes[s] = struct{}{}
	h.mu.Unlock()
	h.log.Info("spoke connected", "remote", s.id.Short())
	if h.opts.OnConnect != nil {
		h.opts.OnConnect(s)
	}
	s.readLoop()
	<-c.Done()
	h.mu.Lock()
	delete(h.spokes, s)
	h.mu.Unlock()
	s.stop()
	h.log.Info("spoke disconnected", "remote", s.id.Short(), "err", c.Err())
	if h.opts.OnDisconnect != nil {
		h.opts.OnDisconnect(s, c.Err())
	}
}

func (h *Hub) track(c *quic.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *Hub) untrack(c *quic.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// Spokes returns the spokes with an open stream.
func (h *Hub) Spokes() []*Spoke {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Spoke, 0, len(h.spokes))
	for s := range h.spokes {
		out = append(out, s)
	}
	return out
}

// Broadcast sends body (a valid envelope) to every spoke except skip.
func (h *Hub) Broadcast(body []byte, skip *Spoke) {
	h.mu.Lock()
	targets := make([]*Spoke, 0, len(h.spokes))
	for s := range h.spokes {
		if s != skip {
			targets = append(targets, s)
		}
	}
	h.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	frame, err := wire.AppendFrameRaw(nil, body)
	if err != nil {
		return
	}
	for _, s := range targets {
		s.sendFrame(frame)
	}
}

// Close closes every connection with CloseOK "hub shutting down" and waits
// for the connections Serve started to end.
func (h *Hub) Close() error {
	h.mu.Lock()
	h.closed = true
	conns := make([]*quic.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Close(CloseOK, "hub shutting down")
		}()
	}
	wg.Wait()
	h.wg.Wait()
	return nil
}

// errorID extracts a string id from a malformed frame for the error answer.
func errorID(body []byte) string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(body, &v) == nil {
		if s, ok := v.ID.(string); ok {
			return s
		}
	}
	return ""
}

// Spoke is one connected spoke.
type Spoke struct {
	h      *Hub
	conn   *quic.Conn
	stream *quic.Stream
	id     identity.EndpointID

	mu      sync.Mutex
	queue   [][]byte
	bytes   int
	dropped bool          // gone: nothing more is queued
	writing bool          // a writer goroutine is draining the queue
	room    chan struct{} // cap 1: the writer emptied the queue
}

func newSpoke(h *Hub, c *quic.Conn, st *quic.Stream) *Spoke {
	return &Spoke{h: h, conn: c, stream: st, id: c.RemoteID(), room: make(chan struct{}, 1)}
}

// ID is the spoke's EndpointId.
func (s *Spoke) ID() identity.EndpointID { return s.id }

// Conn is the spoke's connection.
func (s *Spoke) Conn() *quic.Conn { return s.conn }

// Close closes the spoke's connection.
func (s *Spoke) Close(code uint64, reason string) { s.conn.Close(code, reason) }

// SendEnvelope queues e for the spoke without waiting; it reports false if
// the spoke is gone, or if the frame did not fit and the spoke was
// disconnected with CloseSlowConsumer.
func (s *Spoke) SendEnvelope(e wire.Envelope) bool {
	frame, err := wire.AppendFrame(nil, e)
	if err != nil {
		return false
	}
	return s.sendFrame(frame)
}

// Reply queues e for the spoke, waiting while its queue is full instead of
// dropping it. Call it only from the spoke's own Route calls: waiting there
// stops reading from this spoke, so a spoke that sends faster than it reads
// its answers is slowed down, not disconnected.
func (s *Spoke) Reply(e wire.Envelope) bool {
	frame, err := wire.AppendFrame(nil, e)
	if err != nil {
		return false
	}
	for {
		s.mu.Lock()
		if s.dropped || s.fits(len(frame)) {
			s.mu.Unlock()
			return s.sendFrame(frame)
		}
		s.mu.Unlock()
		select {
		case <-s.room:
		case <-s.conn.Done():
			return false
		}
	}
}

// fits reports whether a frame of n bytes fits in the queue; s.mu is held.
func (s *Spoke) fits(n int) bool {
	return len(s.queue) == 0 || (len(s.queue) < s.h.opts.QueueFrames && s.bytes+n <= s.h.opts.QueueBytes)
}

// Send queues body, a valid envelope, unchanged.
func (s *Spoke) Send(body []byte) bool {
	frame, err := wire.AppendFrameRaw(nil, body)
	if err != nil {
		return false
	}
	return s.sendFrame(frame)
}

// sendFrame queues a complete frame, which may be shared between spokes
// and must not be modified.
func (s *Spoke) sendFrame(frame []byte) bool {
	s.mu.Lock()
	if s.dropped {
		s.mu.Unlock()
		return false
	}
	if !s.fits(len(frame)) {
		s.dropped = true
		s.queue, s.bytes = nil, 0
		s.mu.Unlock()
		s.h.log.Warn("spoke send queue overflow; disconnecting", "remote", s.id.Short())
		go s.conn.Close(CloseSlowConsumer, "send queue overflow")
		return false
	}
	s.queue = append(s.queue, frame)
	s.bytes += len(frame)
	start := !s.writing
	s.writing = true
	s.mu.Unlock()
	if start {
		// The writer runs only while there is something to send, so an
		// idle spoke costs no goroutine of its own.
		go s.writeQueued()
	}
	return true
}

// stop drops whatever is still queued once the connection has closed.
func (s *Spoke) stop() {
	s.mu.Lock()
	s.dropped = true
	s.queue, s.bytes = nil, 0
	s.mu.Unlock()
}

// maxWrite bounds how many queued bytes are coalesced into one stream write.
const maxWrite = 64 << 10

// writeQueued drains the queue and exits once it is empty.
func (s *Spoke) writeQueued() {
	var batch []byte
	for {
		s.mu.Lock()
		q := s.queue
		s.queue, s.bytes = nil, 0
		if len(q) == 0 {
			s.writing = false
		}
		s.mu.Unlock()
		select {
		case s.room <- struct{}{}:
		default:
		}
		if len(q) == 0 {
			return
		}
		if len(q) == 1 {
			if !s.write(q[0]) {
				return
			}
			continue
		}
		// Coalesce small frames into one stream write.
		batch = batch[:0]
		for _, f := range q {
			if len(batch)+len(f) > maxWrite && len(batch) > 0 {
				if !s.write(batch) {
					return
				}
				batch = batch[:0]
			}
			batch = append(batch, f...)
		}
		if !s.write(batch) {
			return
		}
	}
}

// write sends b; on failure the spoke is dropped and its connection closed.
func (s *Spoke) write(b []byte) bool {
	if _, err := s.stream.Write(b); err != nil {
		s.mu.Lock()
		s.dropped, s.writing = true, false
		s.queue, s.bytes = nil, 0
		s.mu.Unlock()
		s.conn.Close(CloseOK, "")
		return false
	}
	return true
}

func (s *Spoke) readLoop() {
	r := wire.NewReader(s.stream, s.h.opts.MaxFrameSize)
	for {
		e, body, err := r.ReadEnvelope()
		switch {
		case err == nil:
			s.h.router.Route(s.h, s, e, body)
		case wire.IsRecoverable(err):
			s.SendEnvelope(wire.ErrorEnvelope(errorID(body), err.Error()))
		case errors.Is(err, io.EOF):
			// The spoke finished sending; it still receives fan-out
			// until its connection closes.
			return
		case errors.Is(err, wire.ErrFrameTooLarge):
			s.conn.Close(CloseFrameTooLarge, err.Error())
			return
		case errors.Is(err, wire.ErrTruncated):
			s.conn.Close(CloseProtocol, err.Error())
			return
		default:
			s.conn.Close(CloseOK, "")
			return
		}
	}
}
