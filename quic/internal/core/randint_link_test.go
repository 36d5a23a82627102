package core

import (
	"container/heap"
	"errors"
	"time"
)

// chaosLink adds what the fuzzer needs on top of the simulator's link:
// duplication, a step that never overshoots a target time, and the
// invariants checked after every step.
type chaosLink struct {
	*link
	dup     float64 // probability that a datagram is delivered twice
	dupSeen int     // flights up to this sequence number were considered
	onStep  func()  // runs after every step (reads, events)
}

// duplicate copies some of the datagrams queued since the last call; the
// copy trails the original by up to 5 ms.
func (c *chaosLink) duplicate() {
	n := len(c.queue)
	for i := 0; i < n; i++ {
		f := c.queue[i]
		if f.seq <= c.dupSeen || c.dup == 0 || c.rng.Float64() >= c.dup {
			continue
		}
		c.sent++
		f.seq = c.sent
		f.at = f.at.Add(time.Duration(c.rng.Int64N(int64(5 * time.Millisecond))))
		f.data = append([]byte(nil), f.data...)
		heap.Push(&c.queue, f)
	}
	c.dupSeen = c.sent
}

// maxStepsAtOneInstant bounds how often the link may step without virtual
// time moving: more means a timer that HandleTimeout never clears, or a
// sender that never runs out of datagrams.
const maxStepsAtOneInstant = 20000

// advance runs the link until d of virtual time passed, like settle but
// with duplication and the per-step checks.
func (c *chaosLink) advance(d time.Duration) {
	c.t.Helper()
	end := c.now.Add(d)
	same, last := 0, c.now
	for {
		c.flush()
		c.duplicate()
		next := time.Time{}
		if len(c.queue) > 0 {
			next = c.queue[0].at
		}
		for _, conn := range []*Conn{c.client, c.server} {
			if conn == nil {
				continue
			}
			if at, ok := conn.Timeout(); ok && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		if next.IsZero() || next.After(end) {
			c.now = end
			c.checkTimers()
			return
		}
		c.step()
		c.onStep()
		if c.now.Equal(last) {
			if same++; same > maxStepsAtOneInstant {
				c.t.Fatalf("virtual time stuck at %v", c.now)
			}
		} else {
			same, last = 0, c.now
		}
	}
}

// maxTimerHorizon is the furthest a live connection's next deadline may
// lie: the idle timeout (30 s) bounds every wait.
const maxTimerHorizon = 5 * time.Minute

// checkTimers: a connection that is not closed always has a finite next
// deadline (at least its idle timer), so it can never hang.
func (c *chaosLink) checkTimers() {
	for _, conn := range []*Conn{c.client, c.server} {
		if conn == nil || conn.IsClosed() {
			continue
		}
		at, ok := conn.Timeout()
		if !ok || at.Sub(c.now) > maxTimerHorizon {
			c.t.Fatalf("%v: no finite deadline (%v, ok %v) on a live connection", conn.Side(), at.Sub(c.now), ok)
		}
	}
}

// checkClose fails on any way of ending the fuzzer's connection may not
// produce between two correct peers: both are ours, so a transport error
// is a bug on one side or the other.
func (c *chaosLink) checkClose(conn *Conn) {
	err := conn.Err()
	if err == nil || errors.Is(err, ErrIdleTimeout) || errors.Is(err, ErrNoViablePath) {
		return
	}
	var ce *CloseError
	if asCloseError(err, &ce) && ce.Application {
		return
	}
	c.t.Fatalf("%v closed with %v", conn.Side(), err)
}
