package portmap

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeClock moves only when told to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clock   *fakeClock
	c       chan time.Time
	at      time.Time
	stopped bool
	fired   bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, c: make(chan time.Time, 1), at: c.now.Add(d)}
	c.timers = append(c.timers, t)
	c.fireLocked()
	return t
}

// Advance moves the clock and fires the timers that fell due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireLocked()
}

func (c *fakeClock) fireLocked() {
	for _, t := range c.timers {
		if !t.stopped && !t.fired && !t.at.After(c.now) {
			t.fired = true
			t.c <- c.now
		}
	}
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

var errRefused = errors.New("fake: refused")

// fakeClient records calls and answers from a script.
type fakeClient struct {
	proto Protocol

	mu        sync.Mutex
	available bool
	fail      bool // mapPort refuses
	port      uint16
	lifetime  time.Duration
	probes    int
	probeGate chan struct{} // when set, probe answers only once it is closed
	maps      []request
	released  []lease
}

func (f *fakeClient) probe(ctx context.Context, _ route) bool {
	f.mu.Lock()
	f.probes++
	gate := f.probeGate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return false
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.available
}

func (f *fakeClient) mapPort(_ context.Context, req request) (lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maps = append(f.maps, req)
	if f.fail {
		return lease{}, errRefused
	}
	port := f.port
	if req.prefer.IsValid() {
		port = req.prefer.Port()
	}
	l := lease{route: req.route, proto: f.proto, lifetime: f.lifetime,
		external: netip.AddrPortFrom(netip.MustParseAddr("5.5.5.1"), port)}
	l.nonce[0] = byte(len(f.maps))
	return l, nil
}

func (f *fakeClient) release(_ context.Context, l lease) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, l)
	return nil
}

func (f *fakeClient) set(fn func(f *fakeClient)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeClient) counts() (probes, maps, released int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.probes, len(f.maps), len(f.released)
}

func (f *fakeClient) lastMap() request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maps[len(f.maps)-1]
}

// world is a Mapper wired to fakes.
type world struct {
	clock   *fakeClock
	clients [4]*fakeClient
	gateway netip.Addr
	mu      sync.Mutex
	routes  int
	m       *Mapper
}

var testLocal = netip.MustParseAddrPort("0.0.0.0:40000")

func newWorld(available ...Protocol) *world {
	w := &world{clock: newFakeClock(), gateway: netip.MustParseAddr("10.77.0.1")}
	for _, p := range preference {
		w.clients[p] = &fakeClient{proto: p, port: 40000 + uint16(p), lifetime: 100 * time.Second}
	}
	for _, p := range available {
		w.clients[p].available = true
	}
	return w
}

func (w *world) env() env {
	e := env{clock: w.clock, route: func(local netip.AddrPort) (route, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.routes++
		return route{gateway: w.gateway, local: netip.MustParseAddr("10.77.0.2"), port: local.Port()}, nil
	}}
	for p, c := range w.clients {
		if c != nil {
			e.clients[p] = c
		}
	}
	return e
}

func (w *world) start(t *testing.T, opts Options) *Mapper {
	t.Helper()
	w.m = start(testLocal, opts, w.env())
	t.Cleanup(func() { _ = w.m.Close() })
	return w.m
}

// sync waits until the loop has handled everything sent before.
func (w *world) sync(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	if !w.m.send(command{kind: cmdSync, syncReply: done}) {
		t.Fatal("mapper closed")
	}
	<-done
}

// event waits for the next event.
func (w *world) event(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-w.m.Events():
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return Event{}
	}
}

// waitProbed waits until each protocol's probe was called.
func (w *world) waitProbed(t *testing.T, protos ...Protocol) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range protos {
		for {
			if probes, _, _ := w.clients[p].counts(); probes > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v never probed", p)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// trusted reports whether p is trusted available: a Probe call leaves it
// unprobed and reports it.
func (w *world) trusted(t *testing.T, p Protocol) bool {
	t.Helper()
	before, _, _ := w.clients[p].counts()
	r, err := w.m.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after, _, _ := w.clients[p].counts()
	return after == before && [4]bool{None: false, PCP: r.PCP, NATPMP: r.NATPMP, UPnP: r.UPnP}[p]
}
