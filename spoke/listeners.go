package spoke

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/alkdev/irohspoke/wire"
)

// Wildcard is the listener type that receives every frame.
const Wildcard = "*"

// registry is a copy-on-write list of callbacks, so delivery takes no lock
// and listeners may add or remove listeners from inside a callback.
type registry[F any] struct {
	mu     sync.Mutex
	nextID uint64
	list   atomic.Pointer[[]entry[F]]
}

type entry[F any] struct {
	id  uint64
	typ string
	fn  F
}

func (r *registry[F]) add(typ string, fn F) (remove func()) {
	r.mu.Lock()
	r.nextID++
	id := r.nextID
	var old []entry[F]
	if p := r.list.Load(); p != nil {
		old = *p
	}
	next := append(append(make([]entry[F], 0, len(old)+1), old...), entry[F]{id, typ, fn})
	r.list.Store(&next)
	r.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { r.remove(id) }) }
}

func (r *registry[F]) remove(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.list.Load()
	if p == nil {
		return
	}
	next := make([]entry[F], 0, len(*p))
	for _, e := range *p {
		if e.id != id {
			next = append(next, e)
		}
	}
	r.list.Store(&next)
}

func (r *registry[F]) snapshot() []entry[F] {
	if p := r.list.Load(); p != nil {
		return *p
	}
	return nil
}

// AddListener calls fn for every frame of the given type received from the
// hub (Wildcard: every frame), in arrival order, on the target's reader
// goroutine: a slow listener slows reading. Listeners stay attached across
// reconnects. A panicking listener is reported as an EventListenerPanic
// status event and the target carries on. The returned function removes
// the listener; calling it again does nothing.
//
// The envelope's Payload aliases a buffer owned by the callee; listeners
// may keep it.
func (t *Target) AddListener(typ string, fn func(wire.Envelope)) (remove func()) {
	return t.listeners.add(typ, fn)
}

// AddStatusListener calls fn for every status event until removed.
func (t *Target) AddStatusListener(fn func(StatusEvent)) (remove func()) {
	return t.statusListeners.add("", fn)
}

// Events returns a channel that receives every frame from the hub until
// ctx ends or the target is closed; then it is closed. Delivery waits for
// the reader of the channel (buffer slots absorb bursts), so frames are
// never dropped, but a channel left unread stalls all listeners.
func (t *Target) Events(ctx context.Context, buffer int) <-chan wire.Envelope {
	ch := make(chan wire.Envelope, max(buffer, 0))
	var mu sync.Mutex
	closed := false
	remove := t.AddListener(Wildcard, func(e wire.Envelope) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		select {
		case ch <- e:
		case <-ctx.Done():
		case <-t.closed:
		}
	})
	go func() {
		select {
		case <-ctx.Done():
		case <-t.closed:
		}
		remove()
		mu.Lock()
		closed = true
		close(ch)
		mu.Unlock()
	}()
	return ch
}

// deliver hands one received envelope to the listeners.
func (t *Target) deliver(e wire.Envelope) {
	for _, l := range t.listeners.snapshot() {
		if l.typ == e.Type || l.typ == Wildcard {
			t.callListener(l.typ, l.fn, e)
		}
	}
}

func (t *Target) callListener(typ string, fn func(wire.Envelope), e wire.Envelope) {
	defer func() {
		if r := recover(); r != nil {
			t.emit(StatusEvent{Kind: EventListenerPanic, Err: &PanicError{Type: typ, Value: r}})
		}
	}()
	fn(e)
}

// emit sends a status event to the status listeners. It must be called
// without t.mu held. Panics in status listeners are swallowed: reporting
// them would recurse.
func (t *Target) emit(ev StatusEvent) {
	if ev.Time.IsZero() {
		ev.Time = t.now()
	}
	for _, l := range t.statusListeners.snapshot() {
		func() {
			defer func() { _ = recover() }()
			l.fn(ev)
		}()
	}
}
