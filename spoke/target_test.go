package spoke

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/wire"
)

func fastOpts(extra ...Option) []Option {
	return append([]Option{
		WithBackoff(time.Millisecond, 5*time.Millisecond, 0.5),
		withAckPoll(time.Millisecond),
		WithCloseTimeout(time.Second),
	}, extra...)
}

func dialFake(t *testing.T, h *fakeHub, opts ...Option) *Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tg, err := DialVia(ctx, h, identity.EndpointAddr{}, fastOpts(opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func env(id string) wire.Envelope {
	return wire.Envelope{Type: "t", ID: id, Payload: []byte(`{"n":1}`)}
}

func flush(t *testing.T, tg *Target) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tg.Flush(ctx); err != nil {
		t.Fatalf("flush: %v (status %+v)", err, tg.Status())
	}
}

// TestExactlyOnceUnderRandomDeaths dispatches events while connections die
// at random moments, with acknowledgements arriving in random pieces, and
// checks that the hub processed every event exactly once, in order.
func TestExactlyOnceUnderRandomDeaths(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			h := newFakeHub(seed)
			h.noEcho = seed%2 == 0 // odd seeds also settle frames by echo
			tg := dialFake(t, h)
			rng := rand.New(rand.NewPCG(seed, 7))
			const n = 400
			var want []string
			for i := range n {
				id := fmt.Sprintf("e%d", i)
				want = append(want, id)
				if err := tg.Dispatch(context.Background(), env(id)); err != nil {
					t.Fatal(err)
				}
				if rng.IntN(25) == 0 {
					h.current().kill(errFakeDeath)
				}
				if rng.IntN(10) == 0 { // jitter, not a wait: deaths land at varied points of the send/ack pipeline
					time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
				}
			}
			flush(t, tg)
			got := h.processedIDs()
			if !slices.Equal(got, want) {
				t.Fatalf("hub processed %d events, want %d in order; first difference at %d",
					len(got), len(want), firstDiff(got, want))
			}
			st := tg.Status()
			if st.Stats.Delivered != n || st.Stats.Failed != 0 || st.Queued != 0 {
				t.Fatalf("stats %+v", st)
			}
			if st.Reconnects == 0 {
				t.Fatal("no reconnection happened")
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestListeners(t *testing.T) {
	h := newFakeHub(1)
	h.ackAll = true
	tg := dialFake(t, h)
	var mu sync.Mutex
	var typed, all []string
	removeTyped := tg.AddListener("t.echo", func(e wire.Envelope) {
		mu.Lock()
		typed = append(typed, e.ID)
		mu.Unlock()
	})
	tg.AddListener(Wildcard, func(e wire.Envelope) {
		mu.Lock()
		all = append(all, e.Type+"/"+e.ID)
		mu.Unlock()
	})
	tg.AddListener("x.echo", func(wire.Envelope) { panic("boom") })
	panics := make(chan error, 4)
	tg.AddStatusListener(func(ev StatusEvent) {
		if ev.Kind == EventListenerPanic {
			panics <- ev.Err
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	events := tg.Events(ctx, 0)

	must(t, tg.Dispatch(context.Background(), env("1")))
	expectEvent(t, events, "t.echo", "1")
	must(t, tg.Dispatch(context.Background(), wire.Envelope{Type: "x", ID: "2"}))
	expectEvent(t, events, "x.echo", "2")
	select {
	case err := <-panics:
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Type != "x.echo" || pe.Value != "boom" {
			t.Fatalf("panic event %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no listener_panic event")
	}
	removeTyped()
	removeTyped() // idempotent
	must(t, tg.Dispatch(context.Background(), env("3")))
	expectEvent(t, events, "t.echo", "3")
	cancel()
	for range events { // closed after cancel
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(typed, []string{"1"}) {
		t.Errorf("typed listener got %v", typed)
	}
	if !slices.Equal(all, []string{"t.echo/1", "x.echo/2", "t.echo/3"}) {
		t.Errorf("wildcard listener got %v", all)
	}
}

func expectEvent(t *testing.T, ch <-chan wire.Envelope, typ, id string) {
	t.Helper()
	select {
	case e := <-ch:
		if e.Type != typ || e.ID != id {
			t.Fatalf("got %s/%s, want %s/%s", e.Type, e.ID, typ, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s/%s", typ, id)
	}
}

// awaitStatus returns a channel that receives the target's next status
// event of the given kind; call it before causing the event.
func awaitStatus(tg *Target, kind EventKind) <-chan StatusEvent {
	ch := make(chan StatusEvent, 1)
	var once sync.Once
	tg.AddStatusListener(func(ev StatusEvent) {
		if ev.Kind == kind {
			once.Do(func() { ch <- ev })
		}
	})
	return ch
}

func waitEvent(t *testing.T, ch <-chan StatusEvent, kind EventKind) StatusEvent {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s event", kind)
		return StatusEvent{}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestListenersSurviveReconnect(t *testing.T) {
	h := newFakeHub(2)
	h.ackAll = true
	var kinds []EventKind
	var mu sync.Mutex
	tg := dialFake(t, h, WithStatus(func(ev StatusEvent) {
		mu.Lock()
		kinds = append(kinds, ev.Kind)
		mu.Unlock()
	}))
	events := tg.Events(context.Background(), 8)
	must(t, tg.Dispatch(context.Background(), env("a")))
	expectEvent(t, events, "t.echo", "a")
	h.current().kill(&CloseError{Remote: true, Code: 0, Reason: "hub shutting down"})
	must(t, tg.Dispatch(context.Background(), env("b")))
	expectEvent(t, events, "t.echo", "b")
	tg.Close()
	mu.Lock()
	defer mu.Unlock()
	want := []EventKind{EventConnecting, EventConnected, EventDisconnected, EventConnecting, EventReconnected, EventClosed}
	if !slices.Equal(kinds, want) {
		t.Fatalf("status events %v, want %v", kinds, want)
	}
	if err := tg.Status().LastError; err == nil {
		t.Fatal("no last error")
	}
}

func TestCloseReasonSurfaced(t *testing.T) {
	h := newFakeHub(3)
	h.ackAll = true
	got := make(chan error, 1)
	tg := dialFake(t, h, WithStatus(func(ev StatusEvent) {
		if ev.Kind == EventDisconnected {
			got <- ev.Err
		}
	}))
	_ = tg
	h.current().kill(&CloseError{Remote: true, Code: 7, Reason: "go away"})
	select {
	case err := <-got:
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != 7 || ce.Reason != "go away" || !ce.Remote {
			t.Fatalf("disconnect error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnected event")
	}
}

func TestDialFailure(t *testing.T) {
	h := newFakeHub(4)
	h.dialErr = errors.New("handshake failed: wrong key")
	_, err := DialVia(context.Background(), h, identity.EndpointAddr{}, fastOpts()...)
	if err == nil || !errors.Is(err, h.dialErr) {
		t.Fatalf("Dial error %v", err)
	}
	if _, err := DialVia(context.Background(), nil, identity.EndpointAddr{}); !errors.Is(err, ErrNoDialer) {
		t.Fatalf("nil dialer: %v", err)
	}
}

func TestNoReconnectFailsQueued(t *testing.T) {
	h := newFakeHub(5)
	h.noEcho = true
	var mu sync.Mutex
	failed := map[string]error{}
	tg := dialFake(t, h, WithoutReconnect(), WithOnFailed(func(e wire.Envelope, err error) {
		mu.Lock()
		failed[e.ID] = err
		mu.Unlock()
	}))
	// Acknowledge nothing: every frame stays unacknowledged.
	h.mu.Lock()
	h.dialErr = errors.New("never again")
	h.mu.Unlock()
	closed := awaitStatus(tg, EventClosed)
	c := h.current()
	c.hub.mu.Lock()
	c.killLocked(errFakeDeath)
	c.hub.mu.Unlock()
	_ = tg.Dispatch(context.Background(), env("late")) // may be closed already
	waitEvent(t, closed, EventClosed)
	if st := tg.Status().State; st != StateClosed {
		t.Fatalf("state %s", st)
	}
	if err := tg.Dispatch(context.Background(), env("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dispatch after final disconnect: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if err, ok := failed["late"]; ok && !errors.Is(err, ErrDisconnected) {
		t.Fatalf("late event failed with %v", err)
	}
	if h.dials != 1 {
		t.Fatalf("%d dials with reconnection off", h.dials)
	}
}

func TestSendTimeoutDuringOutage(t *testing.T) {
	h := newFakeHub(6)
	h.ackAll = true
	failed := make(chan error, 10)
	tg := dialFake(t, h, WithSendTimeout(50*time.Millisecond), WithOnFailed(func(e wire.Envelope, err error) {
		if e.ID != "lost" {
			err = fmt.Errorf("unexpected event %q: %w", e.ID, err)
		}
		failed <- err
	}))
	h.mu.Lock()
	h.dialErr = errors.New("hub down")
	h.mu.Unlock()
	down := awaitStatus(tg, EventDisconnected)
	h.current().kill(errFakeDeath)
	waitEvent(t, down, EventDisconnected)
	must(t, tg.Dispatch(context.Background(), env("lost")))
	select {
	case err := <-failed:
		if !errors.Is(err, ErrDeadline) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no failure reported")
	}
	h.mu.Lock()
	h.dialErr = nil
	h.mu.Unlock()
	must(t, tg.Dispatch(context.Background(), env("kept")))
	flush(t, tg)
	if got := h.processedIDs(); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("processed %v", got)
	}
}

func TestQueueFullAndClose(t *testing.T) {
	h := newFakeHub(7)
	h.noEcho = true
	h.mu.Lock()
	h.dialErr = nil
	h.mu.Unlock()
	var mu sync.Mutex
	var failed []string
	tg := dialFake(t, h, WithQueueLimit(3, 1<<20), WithCloseTimeout(50*time.Millisecond),
		WithOnFailed(func(e wire.Envelope, err error) {
			if errors.Is(err, ErrClosed) {
				mu.Lock()
				failed = append(failed, e.ID)
				mu.Unlock()
			}
		}))
	// Stop acknowledging: kill the link's ack progress by making the hub
	// unreachable and the connection dead.
	h.mu.Lock()
	h.dialErr = errors.New("hub down")
	h.mu.Unlock()
	h.current().kill(errFakeDeath)
	for i := range 3 {
		must(t, tg.Dispatch(context.Background(), env(fmt.Sprint(i))))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := tg.Dispatch(ctx, env("3")); !errors.Is(err, ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dispatch on a full queue: %v", err)
	}
	tg.Close()
	if err := tg.Dispatch(context.Background(), env("4")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dispatch after Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(failed, []string{"0", "1", "2"}) {
		t.Fatalf("failed at close: %v", failed)
	}
	if st := tg.Status(); st.State != StateClosed || st.Stats.Failed != 3 {
		t.Fatalf("status %+v", st)
	}
}

func TestDispatchRejectsBadEnvelope(t *testing.T) {
	h := newFakeHub(8)
	h.ackAll = true
	tg := dialFake(t, h)
	err := tg.Dispatch(context.Background(), wire.Envelope{Type: "t", ID: "1", Payload: []byte("{bad")})
	if err == nil {
		t.Fatal("bad payload accepted")
	}
}
