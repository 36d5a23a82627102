package soak

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// EventType is the type of every soak event; the hub echoes it as
// EventType+".echo" and forwards it unchanged to the other spokes.
const EventType = "soak"

// helloType is each spoke's first frame. The hub sees a spoke's stream
// only once data arrives on it, so a spoke that has sent nothing would
// miss fan-out; the ledger does not book hellos.
const helloType = EventType + ".hello"

// loopback keeps every socket of the fleet on 127.0.0.1: endpoints bound
// there announce only that address, so hole punching stays local too.
const loopback = "127.0.0.1:0"

// Fleet is a Go hub (endpoint, hub.Hub, default echo and fan-out router)
// and spokes (endpoint, spoke.Target), each spoke on its own endpoint and
// UDP socket like separate processes, all in this process on loopback.
type Fleet struct {
	Ledger *Ledger

	hubEP   *endpoint.Endpoint
	hub     *hub.Hub
	joined  chan struct{} // poked (cap 1) when a spoke's stream reaches the hub
	stop    context.CancelFunc
	served  chan struct{}
	members []*member
	echoRTT latencies

	failed      atomic.Int64 // events reported to the failure callback
	disconnects atomic.Int64 // EventDisconnected, any spoke
	retries     atomic.Int64 // first dials made again

	mu       sync.Mutex
	incident []string // the first disconnects and dial retries, for the log
}

const maxIncidents = 10

type member struct {
	ep *endpoint.Endpoint
	t  *spoke.Target
}

// StartFleet starts the hub and connects n spokes, at most parallel at a
// time; every spoke has a connection and stream when it returns.
func StartFleet(ctx context.Context, n, parallel int) (*Fleet, error) {
	hubEP, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: loopback, ALPNs: []string{hub.ALPN}})
	if err != nil {
		return nil, err
	}
	serveCtx, stop := context.WithCancel(context.Background())
	f := &Fleet{
		Ledger: NewLedger(n), hubEP: hubEP, joined: make(chan struct{}, 1),
		stop: stop, served: make(chan struct{}), members: make([]*member, n),
	}
	f.hub = hub.New(hub.Options{OnConnect: func(*hub.Spoke) {
		select {
		case f.joined <- struct{}{}:
		default:
		}
	}})
	go func() {
		defer close(f.served)
		f.hub.Serve(serveCtx, hubEP)
	}()
	target := hubEP.Addr()
	sem := make(chan struct{}, max(parallel, 1))
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m, err := f.connect(ctx, i, target)
			f.members[i] = m
			if err != nil {
				errs <- fmt.Errorf("soak: spoke %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.waitRegistered(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// waitRegistered waits until the hub serves every spoke's stream.
func (f *Fleet) waitRegistered(ctx context.Context) error {
	for f.Connected() < len(f.members) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("soak: hub serves %d of %d spokes: %w", f.Connected(), len(f.members), ctx.Err())
		case <-f.joined:
		}
	}
	return nil
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// connectAttempts bounds the first dial of a spoke. A hub that cannot
// accept fast enough refuses handshaken connections ("accept queue full");
// a real spoke would dial again too. Retries are counted and logged.
const connectAttempts = 5

// connect binds spoke i's endpoint and dials the hub.
func (f *Fleet) connect(ctx context.Context, i int, target identity.EndpointAddr) (*member, error) {
	ep, err := endpoint.Bind(ctx, endpoint.Options{BindAddr: loopback})
	if err != nil {
		return nil, err
	}
	m := &member{ep: ep}
	for attempt := 1; ; attempt++ {
		err = f.dial(ctx, m, i, target)
		if err == nil || attempt == connectAttempts || ctx.Err() != nil {
			return m, err
		}
		f.noteRetry(i, err)
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}

// dial connects member m (spoke i) and sends its hello.
func (f *Fleet) dial(ctx context.Context, m *member, i int, target identity.EndpointAddr) error {
	var err error
	m.t, err = spoke.Dial(ctx, m.ep, target,
		spoke.WithOnFailed(func(wire.Envelope, error) { f.failed.Add(1) }),
		spoke.WithStatus(func(ev spoke.StatusEvent) {
			if ev.Kind == spoke.EventDisconnected {
				f.disconnects.Add(1)
				f.noteIncident(i, ev)
			}
		}))
	if err != nil {
		return err
	}
	m.t.AddListener(EventType+wire.EchoSuffix, func(e wire.Envelope) {
		f.Ledger.Echo(i, e.ID)
		f.echoRTT.addSince(e.Payload)
	})
	m.t.AddListener(EventType, func(e wire.Envelope) { f.Ledger.Fanout(i, e.ID) })
	if err := m.t.Dispatch(ctx, wire.Envelope{Type: helloType, ID: EventID(i, 0)}); err != nil {
		m.t.Close()
		m.t = nil
		return err
	}
	return nil
}

func (f *Fleet) noteIncident(i int, ev spoke.StatusEvent) {
	f.note(fmt.Sprintf("%s spoke %d disconnected: %v", ev.Time.Format(time.StampMilli), i, ev.Err))
}

func (f *Fleet) noteRetry(i int, err error) {
	f.retries.Add(1)
	f.note(fmt.Sprintf("%s spoke %d dials again: %v", time.Now().Format(time.StampMilli), i, err))
}

func (f *Fleet) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.incident) < maxIncidents {
		f.incident = append(f.incident, s)
	}
}

// ConnectRetries is how many first dials had to be made again.
func (f *Fleet) ConnectRetries() int64 { return f.retries.Load() }

// Incidents are the first disconnects and dial retries, with time, spoke
// and reason.
func (f *Fleet) Incidents() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.incident)
}

// Spokes is the number of spokes.
func (f *Fleet) Spokes() int { return len(f.members) }

// Connected is how many spokes the hub has an open stream with.
func (f *Fleet) Connected() int { return len(f.hub.Spokes()) }

// Send dispatches spoke i's next event, carrying its send time.
func (f *Fleet) Send(ctx context.Context, i int) error {
	seq := f.Ledger.NextSeq(i)
	e := wire.Envelope{Type: EventType, ID: EventID(i, seq), Payload: sendStamp(time.Now())}
	if err := f.members[i].t.Dispatch(ctx, e); err != nil {
		f.Ledger.Unsend(i, seq)
		return err
	}
	return nil
}

// Drive sends events at rate per second in total, spreading them over
// the spokes in turn, until d has passed or ctx ends.
func (f *Fleet) Drive(ctx context.Context, rate float64, d time.Duration) error {
	interval := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.After(d)
	for next := 0; ; next = (next + 1) % len(f.members) {
		select {
		case <-tick.C:
		case <-end:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := f.Send(ctx, next); err != nil {
			return err
		}
	}
}

// Drain waits until the ledger is complete: every event echoed to its
// sender and copied to every other spoke.
func (f *Fleet) Drain(ctx context.Context) (Tally, error) {
	for {
		t := f.Ledger.Tally()
		if t.Complete() {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return t, fmt.Errorf("soak: ledger incomplete: %s: %w", t, ctx.Err())
		case <-f.Ledger.Settled():
		}
	}
}

// Flush waits until every spoke's events are acknowledged (or failed).
func (f *Fleet) Flush(ctx context.Context) error {
	for i, m := range f.members {
		if err := m.t.Flush(ctx); err != nil {
			return fmt.Errorf("soak: spoke %d: %w", i, err)
		}
	}
	return nil
}

// Counters are the fleet's events outside the ledger.
type Counters struct {
	Delivered   uint64 // spoke.Stats.Delivered, summed, less the hellos
	Failed      int64  // events reported failed
	Disconnects int64  // lost connections
	Reconnects  int    // spoke.Status.Reconnects, summed
	Queued      int    // events still waiting for an acknowledgement
}

func (c Counters) String() string {
	return fmt.Sprintf("delivered=%d failed=%d disconnects=%d reconnects=%d queued=%d",
		c.Delivered, c.Failed, c.Disconnects, c.Reconnects, c.Queued)
}

// Counters sums the spokes' own statistics.
func (f *Fleet) Counters() Counters {
	c := Counters{Failed: f.failed.Load(), Disconnects: f.disconnects.Load()}
	for _, m := range f.members {
		st := m.t.Status()
		c.Delivered += st.Stats.Delivered - min(st.Stats.Delivered, 1)
		c.Reconnects += st.Reconnects
		c.Queued += st.Queued
	}
	return c
}

// EchoRTT summarises the send-to-echo times seen so far.
func (f *Fleet) EchoRTT() LatencySummary { return f.echoRTT.summary() }

// Close closes every spoke, then the hub and its endpoint.
func (f *Fleet) Close() {
	var wg sync.WaitGroup
	for _, m := range f.members {
		if m == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.t != nil {
				m.t.Close()
			}
			m.ep.Close()
		}()
	}
	wg.Wait()
	f.stop()
	f.hub.Close()
	<-f.served
	f.hubEP.Close()
}
