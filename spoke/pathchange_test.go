package spoke

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// movingConn is a fake Conn whose path kind the test changes.
type movingConn struct {
	Conn
	mu      sync.Mutex
	kind    PathKind
	changed chan struct{}
}

func (c *movingConn) Path() (PathKind, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kind, 7 * time.Millisecond
}

func (c *movingConn) PathChanged() <-chan struct{} { return c.changed }

func (c *movingConn) move(k PathKind) {
	c.mu.Lock()
	c.kind = k
	c.mu.Unlock()
	c.changed <- struct{}{}
}

type movingDialer struct {
	h    *fakeHub
	conn chan *movingConn
}

func (d movingDialer) DialHub(ctx context.Context, hub identity.EndpointAddr, alpn string) (Conn, error) {
	c, err := d.h.DialHub(ctx, hub, alpn)
	if err != nil {
		return nil, err
	}
	mc := &movingConn{Conn: c, kind: PathRelay, changed: make(chan struct{}, 1)}
	d.conn <- mc
	return mc, nil
}

// TestPathChangedEvent: a Conn that is a PathNotifier reports its move
// from the relay to a direct path once; a signal without a change of
// kind reports nothing.
func TestPathChangedEvent(t *testing.T) {
	d := movingDialer{h: newFakeHub(1), conn: make(chan *movingConn, 1)}
	events := make(chan StatusEvent, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tg, err := DialVia(ctx, d, identity.EndpointAddr{}, fastOpts(WithStatus(func(ev StatusEvent) {
		if ev.Kind == EventPathChanged {
			events <- ev
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	c := <-d.conn
	if st := tg.Status(); st.Path != PathRelay {
		t.Fatalf("path %q before the move", st.Path)
	}
	c.move(PathRelay) // a signal without a change
	c.move(PathDirect)
	select {
	case ev := <-events:
		if ev.Path != PathDirect || ev.RTT != 7*time.Millisecond {
			t.Fatalf("event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no path_changed event")
	}
	if st := tg.Status(); st.Path != PathDirect {
		t.Fatalf("status path %q after the move", st.Path)
	}
	// A move back is the next event: nothing extra came in between.
	c.move(PathRelay)
	select {
	case ev := <-events:
		if ev.Path != PathRelay {
			t.Fatalf("extra event %+v", ev)
		}
	case <-ctx.Done():
		t.Fatal("no path_changed event for the move back")
	}
}

// flippingConn moves to a direct path as its first Path call returns.
type flippingConn struct {
	*movingConn
	once sync.Once
}

func (c *flippingConn) Path() (PathKind, time.Duration) {
	k, rtt := c.movingConn.Path()
	c.once.Do(func() { c.move(PathDirect) })
	return k, rtt
}

// flippingDialer dials as movingDialer, with conns that flip.
type flippingDialer struct{ movingDialer }

func (d flippingDialer) DialHub(ctx context.Context, hub identity.EndpointAddr, alpn string) (Conn, error) {
	c, err := d.movingDialer.DialHub(ctx, hub, alpn)
	if err != nil {
		return nil, err
	}
	return &flippingConn{movingConn: c.(*movingConn)}, nil
}

// TestConnectedBeforePathChanged: a path that changes just as the
// connection comes up is reported after "connected", which names the
// path it started on, never before it.
func TestConnectedBeforePathChanged(t *testing.T) {
	events := make(chan StatusEvent, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := flippingDialer{movingDialer{h: newFakeHub(1), conn: make(chan *movingConn, 1)}}
	tg, err := DialVia(ctx, d, identity.EndpointAddr{}, fastOpts(WithStatus(func(ev StatusEvent) {
		if ev.Kind == EventConnected || ev.Kind == EventPathChanged {
			events <- ev
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	var got []StatusEvent
	for len(got) < 2 {
		select {
		case ev := <-events:
			got = append(got, ev)
		case <-ctx.Done():
			t.Fatalf("events %+v", got)
		}
	}
	if got[0].Kind != EventConnected || got[0].Path != PathRelay || got[1].Kind != EventPathChanged || got[1].Path != PathDirect {
		t.Fatalf("events %+v; want connected on the relay, then path_changed to direct", got)
	}
}
