package spoke

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/wire"
)

// Target is a connection to a hub that survives reconnections. It is safe
// for concurrent use.
type Target struct {
	dialer Dialer
	hub    identity.EndpointAddr
	opts   options
	now    func() time.Time

	listeners       registry[func(wire.Envelope)]
	statusListeners registry[func(StatusEvent)]

	closeOnce sync.Once
	closed    chan struct{} // closed by Close: stop everything
	done      chan struct{} // closed when the run loop has exited

	mu         sync.Mutex
	q          queue
	sess       *session // current session, nil while disconnected
	state      State
	path       PathKind
	rtt        time.Duration
	reconnects int
	lastErr    error
	stats      Stats
	// changed is closed and replaced when the queue shrinks or the state
	// changes, to wake Dispatch and Flush; only while someone waits.
	changed chan struct{}
	waiting bool
	// ackKick wakes the idle ack poller.
	ackKick chan struct{}
}

// Dial connects to hub through the endpoint ep and returns a Target
// running on that connection. hub may be just an ID when ep has address
// lookup. The first connection is made once, within ctx and the attempt
// timeout: a handshake failure (wrong EndpointId, wrong ALPN, no answer) is
// returned here. After that the target reconnects on its own.
func Dial(ctx context.Context, ep Endpoint, hub identity.EndpointAddr, opts ...Option) (*Target, error) {
	if ep == nil {
		return nil, ErrNoDialer
	}
	return DialVia(ctx, endpointDialer{ep}, hub, opts...)
}

// DialVia is Dial over a custom Dialer.
func DialVia(ctx context.Context, d Dialer, hub identity.EndpointAddr, opts ...Option) (*Target, error) {
	if d == nil {
		return nil, ErrNoDialer
	}
	t := &Target{
		dialer:  d,
		hub:     hub,
		opts:    defaultOptions(),
		now:     time.Now,
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
		state:   StateConnecting,
		changed: make(chan struct{}),
		ackKick: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(&t.opts)
	}
	if t.opts.onStatus != nil {
		t.statusListeners.add("", t.opts.onStatus)
	}
	t.emit(StatusEvent{Kind: EventConnecting, Attempt: 1})
	conn, stream, err := t.connect(ctx)
	if err != nil {
		t.state = StateClosed
		close(t.done)
		return nil, fmt.Errorf("spoke: dial hub %s: %w", hub.ID.Short(), err)
	}
	s := t.attach(conn, stream, StatusEvent{Kind: EventConnected})
	go t.run(s)
	go t.ackLoop()
	return t, nil
}

// connect makes one connection and opens the session stream.
func (t *Target) connect(ctx context.Context) (Conn, Stream, error) {
	if t.opts.attemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.opts.attemptTimeout)
		defer cancel()
	}
	conn, err := t.dialer.DialHub(ctx, t.hub, t.opts.alpn)
	if err != nil {
		return nil, nil, err
	}
	stream, err := conn.OpenStream(ctx)
	if err != nil {
		conn.Close(CloseOK, "no stream")
		return nil, nil, fmt.Errorf("spoke: open stream: %w", err)
	}
	return conn, stream, nil
}

// Dispatch queues e for the hub. It returns once the event is queued: from
// then on it is delivered or reported to the failure callback (see the
// package documentation). It waits for room in the queue until ctx ends,
// and fails with an encoding error for an envelope that cannot be framed.
func (t *Target) Dispatch(ctx context.Context, e wire.Envelope) error {
	frame, err := wire.AppendFrame(nil, e)
	if err != nil {
		return err
	}
	it := &item{frame: frame, typ: e.Type, id: e.ID}
	if t.opts.sendTimeout > 0 {
		it.deadline = t.now().Add(t.opts.sendTimeout)
	}
	t.mu.Lock()
	for {
		if t.state == StateClosed {
			t.mu.Unlock()
			return ErrClosed
		}
		if t.q.len() == 0 || (t.q.len() < t.opts.maxQueued && t.q.bytes+len(frame) <= t.opts.maxQueuedBytes) {
			break
		}
		ch := t.waitChange()
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
		}
		t.mu.Lock()
	}
	t.q.push(it)
	t.stats.Dispatched++
	t.mu.Unlock()
	t.wake()
	return nil
}

// Flush waits until every dispatched event has been acknowledged or
// reported failed, or ctx ends.
func (t *Target) Flush(ctx context.Context) error {
	t.mu.Lock()
	for t.q.len() > 0 {
		if t.state == StateClosed {
			t.mu.Unlock()
			return ErrClosed
		}
		ch := t.waitChange()
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		t.mu.Lock()
	}
	t.mu.Unlock()
	return nil
}

// waitChange returns the channel the next change closes; t.mu is held.
func (t *Target) waitChange() <-chan struct{} {
	t.waiting = true
	return t.changed
}

// signalLocked wakes Dispatch and Flush waiters; t.mu is held.
func (t *Target) signalLocked() {
	if t.waiting {
		close(t.changed)
		t.changed = make(chan struct{})
		t.waiting = false
	}
}

// wake tells the writer and the ack poller that frames were queued.
func (t *Target) wake() {
	select {
	case t.ackKick <- struct{}{}:
	default:
	}
	t.mu.Lock()
	s := t.sess
	t.mu.Unlock()
	if s != nil {
		s.wake()
	}
}

// Status returns a snapshot of the target.
func (t *Target) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := Status{
		State:      t.state,
		Path:       t.path,
		RTT:        t.rtt,
		Reconnects: t.reconnects,
		LastError:  t.lastErr,
		Queued:     t.q.len(),
		QueuedSize: t.q.bytes,
		Stats:      t.stats,
	}
	if t.sess != nil {
		st.Path, st.RTT = t.sess.conn.Path()
	}
	return st
}

// Close waits up to the close timeout for queued events to be
// acknowledged, then closes the connection with code 0 and reports what
// is left to the failure callback with ErrClosed. It does not wait for
// listeners, so that a listener may call it: a frame read just before
// the close may still be delivered while or after Close returns.
func (t *Target) Close() error {
	t.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), t.opts.closeTimeout)
		t.flushConnected(ctx)
		cancel()
		close(t.closed)
		<-t.done
		t.mu.Lock()
		left := t.q.drain()
		t.state = StateClosed
		t.signalLocked()
		t.mu.Unlock()
		t.fail(left, ErrClosed)
		t.emit(StatusEvent{Kind: EventClosed})
	})
	return nil
}

// flushConnected is Flush that gives up as soon as the target is not
// connected: waiting through an outage is what the close timeout avoids.
func (t *Target) flushConnected(ctx context.Context) {
	t.mu.Lock()
	for t.q.len() > 0 && t.state == StateConnected {
		ch := t.waitChange()
		t.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-t.done:
			return
		}
		t.mu.Lock()
	}
	t.mu.Unlock()
}

// fail reports given-up events to the failure callback and as a status
// event. It must be called without t.mu held.
func (t *Target) fail(items []*item, err error) {
	if len(items) == 0 {
		return
	}
	t.mu.Lock()
	t.stats.Failed += uint64(len(items))
	t.mu.Unlock()
	if fn := t.opts.onFailed; fn != nil {
		for _, it := range items {
			e, perr := wire.ParseEnvelope(it.frame[4:])
			if perr != nil {
				e = wire.Envelope{Type: it.typ, ID: it.id}
			}
			func() {
				defer func() { _ = recover() }()
				fn(e, err)
			}()
		}
	}
	t.emit(StatusEvent{Kind: EventFailed, Failed: len(items), Err: err})
}

// isClosing reports whether Close has been called.
func (t *Target) isClosing() bool {
	select {
	case <-t.closed:
		return true
	default:
		return false
	}
}

// sleep waits d or until Close; it reports false on Close.
func (t *Target) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.closed:
		return false
	}
}

var errClosing = errors.New("spoke: closing")
