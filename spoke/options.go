package spoke

import (
	"math/rand/v2"
	"time"

	"github.com/alkdev/irohspoke/wire"
)

// Defaults for the options.
const (
	DefaultBackoffInitial = 100 * time.Millisecond
	DefaultBackoffMax     = 2 * time.Second
	DefaultBackoffJitter  = 0.2
	DefaultAttemptTimeout = 5 * time.Second
	DefaultMaxQueued      = 4096
	DefaultMaxQueuedBytes = 32 << 20
	DefaultCloseTimeout   = 2 * time.Second
)

// ackPoll is how often acknowledgement progress is checked while events
// are in flight.
const ackPoll = 10 * time.Millisecond

// Option configures Dial.
type Option func(*options)

type options struct {
	alpn           string
	backoffInitial time.Duration
	backoffMax     time.Duration
	jitter         float64
	attemptTimeout time.Duration
	reconnect      bool
	maxQueued      int
	maxQueuedBytes int
	sendTimeout    time.Duration
	closeTimeout   time.Duration
	ackPoll        time.Duration
	maxFrame       int
	onFailed       func(wire.Envelope, error)
	onStatus       func(StatusEvent)
	rand           func() float64
}

func defaultOptions() options {
	return options{
		alpn:           ALPN,
		backoffInitial: DefaultBackoffInitial,
		backoffMax:     DefaultBackoffMax,
		jitter:         DefaultBackoffJitter,
		attemptTimeout: DefaultAttemptTimeout,
		reconnect:      true,
		maxQueued:      DefaultMaxQueued,
		maxQueuedBytes: DefaultMaxQueuedBytes,
		closeTimeout:   DefaultCloseTimeout,
		ackPoll:        ackPoll,
		maxFrame:       wire.DefaultMaxFrameSize,
		rand:           rand.Float64,
	}
}

// WithALPN sets the application protocol (default "alkpubsub/1").
func WithALPN(alpn string) Option { return func(o *options) { o.alpn = alpn } }

// WithBackoff sets the reconnection delays: the first retry waits about
// initial, each later one twice as long up to max, each varied by ±jitter
// (a fraction, 0 to 1).
func WithBackoff(initial, max time.Duration, jitter float64) Option {
	return func(o *options) {
		o.backoffInitial, o.backoffMax = initial, max
		o.jitter = min(1, jitter)
	}
}

// WithAttemptTimeout bounds each dial attempt, the handshake included
// (default 5 s). A hub that comes back is found by the next attempt.
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.attemptTimeout = d } }

// WithoutReconnect makes a lost connection final: the target closes and
// every unacknowledged event is reported failed with ErrDisconnected.
func WithoutReconnect() Option { return func(o *options) { o.reconnect = false } }

// WithQueueLimit bounds the events (and their bytes) held until
// acknowledged; Dispatch waits for room.
func WithQueueLimit(events, bytes int) Option {
	return func(o *options) { o.maxQueued, o.maxQueuedBytes = events, bytes }
}

// WithSendTimeout gives each event a deadline: an event that has not been
// acknowledged that long after Dispatch and is not on the current stream is
// reported failed with ErrDeadline and never sent again. Zero (the default)
// means no deadline.
func WithSendTimeout(d time.Duration) Option { return func(o *options) { o.sendTimeout = d } }

// WithCloseTimeout bounds how long Close waits for queued events to be
// acknowledged (default 2 s).
func WithCloseTimeout(d time.Duration) Option { return func(o *options) { o.closeTimeout = d } }

// WithMaxFrameSize limits the frames accepted from the hub (default
// wire.DefaultMaxFrameSize).
func WithMaxFrameSize(n int) Option { return func(o *options) { o.maxFrame = n } }

// WithOnFailed sets the failure callback: it receives every event that
// will not be delivered (ErrDeadline, ErrClosed, ErrDisconnected). It is
// called without locks held, from the target's goroutines.
func WithOnFailed(fn func(wire.Envelope, error)) Option { return func(o *options) { o.onFailed = fn } }

// WithStatus adds a status listener before the first dial, so it sees the
// first "connecting" event too.
func WithStatus(fn func(StatusEvent)) Option { return func(o *options) { o.onStatus = fn } }

// withAckPoll is for tests.
func withAckPoll(d time.Duration) Option { return func(o *options) { o.ackPoll = d } }

// backoff is the delay before retry number attempt (1-based).
func (o *options) backoff(attempt int) time.Duration {
	d := o.backoffInitial
	for i := 1; i < attempt && d < o.backoffMax; i++ {
		d *= 2
	}
	d = min(d, o.backoffMax)
	if o.jitter > 0 {
		d = time.Duration(float64(d) * (1 + o.jitter*(2*o.rand()-1)))
	}
	return max(d, 0)
}
