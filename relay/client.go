package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// Client errors.
var (
	// ErrQueueFull: the send queue is full; the datagram was not queued.
	ErrQueueFull = errors.New("relay: send queue full")
	// ErrClientClosed: the client was closed.
	ErrClientClosed = errors.New("relay: client closed")
	// ErrNoKey: ClientConfig.SecretKey is zero.
	ErrNoKey = errors.New("relay: no secret key")
)

// Default client settings (iroh's where iroh has one).
const (
	DefaultBackoffMin = 10 * time.Millisecond
	DefaultBackoffMax = 16 * time.Second
	DefaultQueueLen   = 512
)

// ClientConfig configures a Client.
type ClientConfig struct {
	URL       string             // relay URL, http:// (plain) or https://
	SecretKey identity.SecretKey // the endpoint's key
	Token     string             // optional relay bearer token
	// TLSConfig is cloned for https relays; nil RootCAs means DefaultRoots.
	TLSConfig *tls.Config
	// Proxy picks an HTTP(S) proxy for the relay URL; nil means
	// http.ProxyFromEnvironment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). Use
	// NoProxy to disable.
	Proxy func(*http.Request) (*url.URL, error)
	// BackoffMin and BackoffMax bound the exponential reconnect backoff
	// (with jitter); defaults 10 ms and 16 s as iroh.
	BackoffMin, BackoffMax time.Duration
	// PingInterval: ping the relay after this much silence (15 s default).
	PingInterval time.Duration
	// DialTimeout bounds one connection attempt (10 s default, as iroh).
	DialTimeout time.Duration
	// SendQueueLen and RecvQueueLen bound the queues (512 frames each).
	SendQueueLen, RecvQueueLen int
	// OnStatus, if set, is called on every status change, from the
	// client's own goroutine; it must not block.
	OnStatus func(Status)
	// Logger for connection problems; slog.Default() if nil.
	Logger *slog.Logger
}

// NoProxy is a ClientConfig.Proxy that never uses a proxy.
func NoProxy(*http.Request) (*url.URL, error) { return nil, nil }

// State is a client's connection state.
type State int

const (
	// StateConnecting: the first connection attempt is under way.
	StateConnecting State = iota
	// StateConnected: logged in to the relay.
	StateConnected
	// StateReconnecting: the connection or an attempt failed (Status.Err
	// says why); another attempt follows after backoff.
	StateReconnecting
	// StateFailed is terminal: the client was closed or the relay denied
	// the login (Status.Err).
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateFailed:
		return "failed"
	}
	return "unknown"
}

// Status is a snapshot of the client's connection state.
type Status struct {
	State   State
	Err     error              // why the last connection or attempt ended
	Version relayproto.Version // negotiated version while connected
}

// EventKind says what an Event carries.
type EventKind int

const (
	// EventDatagram: Payload from Src (batches arrive split, one per packet).
	EventDatagram EventKind = iota + 1
	// EventEndpointGone: Src, which had sent us datagrams, disconnected.
	EventEndpointGone
	// EventStatus: the relay reported StatusCode (v2 Status frame).
	EventStatus
	// EventHealth: the relay reported a problem in text (v1 Health frame).
	EventHealth
	// EventRestarting: the relay announced a restart.
	EventRestarting
)

// Event is something received from the relay.
type Event struct {
	Kind       EventKind
	Src        identity.EndpointID
	ECN        relayproto.ECN
	Payload    []byte
	StatusCode relayproto.StatusCode
	Health     string
	Restarting relayproto.Restarting
}

// Client keeps a connection to one relay, reconnecting as needed.
type Client struct {
	cfg    ClientConfig
	log    *slog.Logger
	dialer dialer
	id     identity.EndpointID

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	sendq  chan *[]byte
	events chan Event
	checkq chan struct{} // CheckConnection requests (cap 1)
	// checkLocal: our addresses, given with the pending check (CheckConnectionFrom).
	checkLocal atomic.Pointer[[]netip.Addr]

	mu       sync.Mutex
	status   Status
	statusCh chan struct{} // closed and replaced on every change

	pings        pingTracker
	droppedRecv  atomic.Int64
	reconnects   atomic.Int64
	connectedCnt atomic.Int64
}

// NewClient starts a client that connects in the background.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.SecretKey.IsZero() {
		return nil, ErrNoKey
	}
	if _, _, err := resolveTarget(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Proxy == nil {
		cfg.Proxy = http.ProxyFromEnvironment
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(DefaultBackoffMax, cfg.BackoffMin)
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = relayproto.PingInterval
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = relayproto.ClientConnectTimeout
	}
	if cfg.SendQueueLen <= 0 {
		cfg.SendQueueLen = DefaultQueueLen
	}
	if cfg.RecvQueueLen <= 0 {
		cfg.RecvQueueLen = DefaultQueueLen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Client{
		cfg: cfg, log: cfg.Logger, id: cfg.SecretKey.Public(),
		dialer:   dialer{key: cfg.SecretKey, token: cfg.Token, tls: cfg.TLSConfig, proxy: cfg.Proxy},
		done:     make(chan struct{}),
		sendq:    make(chan *[]byte, cfg.SendQueueLen),
		events:   make(chan Event, cfg.RecvQueueLen),
		checkq:   make(chan struct{}, 1),
		statusCh: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	return c, nil
}

// Dial starts a client and waits until it is connected, ctx ends, or the
// relay denies the login.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.WaitConnected(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// ID returns the client's own endpoint id.
func (c *Client) ID() identity.EndpointID { return c.id }

// Status returns the current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// WaitConnected blocks until the client is connected. It returns the
// failure if the client reaches StateFailed, or ctx's error. While the
// relay is unreachable, the error of the last attempt is wrapped into the
// context error.
func (c *Client) WaitConnected(ctx context.Context) error {
	for {
		c.mu.Lock()
		st, ch := c.status, c.statusCh
		c.mu.Unlock()
		switch st.State {
		case StateConnected:
			return nil
		case StateFailed:
			return st.Err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if st.Err != nil {
				return errors.Join(ctx.Err(), st.Err)
			}
			return ctx.Err()
		}
	}
}

// RTT returns the last measured ping round trip to the relay.
func (c *Client) RTT() (time.Duration, bool) { return c.pings.RTT() }

// DroppedReceives counts datagrams dropped because Recv was not keeping up.
func (c *Client) DroppedReceives() int64 { return c.droppedRecv.Load() }

func (c *Client) setStatus(s Status) {
	c.mu.Lock()
	c.status = s
	close(c.statusCh)
	c.statusCh = make(chan struct{})
	c.mu.Unlock()
	if c.cfg.OnStatus != nil {
		c.cfg.OnStatus(s)
	}
}

// Close stops the client and its connection.
func (c *Client) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// Send queues one datagram for dst. It never blocks: a full queue gives
// ErrQueueFull. Datagrams queued while disconnected go out after the next
// connect.
func (c *Client) Send(ctx context.Context, dst identity.EndpointID, ecn relayproto.ECN, datagram []byte) error {
	f := relayproto.ClientToRelayDatagram{Dst: dst, ECN: ecn, Payload: datagram}
	return c.enqueue(ctx, &f, len(datagram))
}

// SendBatch queues a GSO-style batch: packets of segSize bytes, the last
// possibly shorter. segSize 0 sends payload as one datagram.
func (c *Client) SendBatch(ctx context.Context, dst identity.EndpointID, ecn relayproto.ECN, segSize uint16, payload []byte) error {
	if segSize == 0 || int(segSize) >= len(payload) {
		return c.Send(ctx, dst, ecn, payload)
	}
	f := relayproto.ClientToRelayDatagramBatch{Dst: dst, ECN: ecn, SegmentSize: segSize, Payload: payload}
	return c.enqueue(ctx, &f, len(payload))
}

func (c *Client) enqueue(ctx context.Context, f relayproto.Frame, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.ctx.Err() != nil {
		return ErrClientClosed
	}
	if n == 0 {
		return relayproto.ErrEmptyDatagram
	}
	b := getBuf()
	enc, err := f.Append(*b)
	if err != nil {
		putBuf(b)
		return err
	}
	*b = enc
	select {
	case c.sendq <- b:
		return nil
	default:
		putBuf(b)
		return ErrQueueFull
	}
}

// Recv returns the next event from the relay.
func (c *Client) Recv(ctx context.Context) (Event, error) {
	select {
	case ev := <-c.events:
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	case <-c.done:
		return Event{}, ErrClientClosed
	}
}

// CheckConnection pings the relay now unless a ping is already out: after
// a network change the connection may be dead without the kernel knowing
// (iroh's CheckConnection). No pong within the ping timeout (at most 5 s)
// makes the client reconnect.
func (c *Client) CheckConnection() {
	select {
	case c.checkq <- struct{}{}:
	default:
	}
}

// Events returns the event channel (an alternative to Recv). It is not
// closed when the client closes.
func (c *Client) Events() <-chan Event { return c.events }

// backoff returns the wait before attempt n (0-based): exponential from
// BackoffMin to BackoffMax with jitter in [d/2, d].
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.BackoffMin
	for i := 0; i < n && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.BackoffMax)
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

func (c *Client) run() {
	defer close(c.done)
	failures := 0
	state := StateConnecting
	var lastErr error
	for {
		c.setStatus(Status{State: state, Err: lastErr})
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
		ws, v, err := c.dialer.dial(ctx, c.cfg.URL)
		cancel()
		if c.ctx.Err() != nil {
			if ws != nil {
				ws.Close(websocket.CloseNormal, "")
			}
			c.setStatus(Status{State: StateFailed, Err: ErrClientClosed})
			return
		}
		if errors.Is(err, ErrDenied) {
			c.log.Warn("relay: login denied", "url", c.cfg.URL, "err", err)
			c.setStatus(Status{State: StateFailed, Err: err})
			return
		}
		if err == nil {
			failures = 0
			c.connectedCnt.Add(1)
			c.setStatus(Status{State: StateConnected, Version: v})
			err = c.serve(ws, v)
			if c.ctx.Err() != nil {
				c.setStatus(Status{State: StateFailed, Err: ErrClientClosed})
				return
			}
			c.log.Info("relay: connection lost", "url", c.cfg.URL, "err", err)
		} else {
			c.log.Debug("relay: connect failed", "url", c.cfg.URL, "err", err)
		}
		lastErr, state = err, StateReconnecting
		c.reconnects.Add(1)
		c.setStatus(Status{State: state, Err: lastErr})
		t := time.NewTimer(c.backoff(failures))
		failures++
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			c.setStatus(Status{State: StateFailed, Err: ErrClientClosed})
			return
		}
	}
}
