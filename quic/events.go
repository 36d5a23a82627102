package quic

import "github.com/alkdev/irohspoke/quic/internal/streams"

// Change notifications let callers wait for path and delivery changes
// instead of polling Paths or AckedBytes. Each is a channel closed at the
// next change, so any number of goroutines may wait on the same change and
// the driver never blocks on a slow reader. To miss nothing, take the
// channel first, then read the state it guards, then wait.

// connEvents holds the pending change channels of a connection. It is
// guarded by Conn.mu; its zero value has no waiters.
type connEvents struct {
	paths chan struct{}                      // closed at the next path change
	acked map[streams.StreamID]chan struct{} // closed when the stream's acked offset moves
	ackAt map[streams.StreamID]uint64        // the offset each acked waiter saw
}

// closedChan is returned once nothing will change any more.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// PathsChanged returns a channel that is closed at the connection's next
// path event: a path opened, validated or abandoned, a status change by
// either side, new NAT traversal candidates from the peer, or the peer
// checking a direct path again (PeerRechecks). Paths and
// RemoteAddr then show the new state. RTT changes are not path events.
// Once the connection is closed the channel returned is closed already.
func (c *Conn) PathsChanged() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return closedChan
	}
	if c.events.paths == nil {
		c.events.paths = make(chan struct{})
	}
	return c.events.paths
}

// pathsChangedLocked wakes PathsChanged waiters. c.mu is held.
func (c *Conn) pathsChangedLocked() {
	if ch := c.events.paths; ch != nil {
		close(ch)
		c.events.paths = nil
	}
}

// AckedChanged returns a channel that is closed when AckedBytes next
// differs from its value now. It is closed already when that can no
// longer happen: the stream is forgotten (AckedBytes is -1), has no
// sending half, or the connection is closed.
func (s *Stream) AckedChanged() <-chan struct{} {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.core.Streams().Info(s.id)
	if c.err != nil || !ok || !info.HasSend {
		return closedChan
	}
	ev := &c.events
	if ch, ok := ev.acked[s.id]; ok {
		if ev.ackAt[s.id] == info.Acked {
			return ch
		}
		close(ch) // moved since: its waiters are due
	}
	if ev.acked == nil {
		ev.acked = make(map[streams.StreamID]chan struct{})
		ev.ackAt = make(map[streams.StreamID]uint64)
	}
	ch := make(chan struct{})
	ev.acked[s.id], ev.ackAt[s.id] = ch, info.Acked
	return ch
}

// notifyAckedLocked wakes the AckedChanged waiters of streams whose
// acknowledged offset moved or that are gone. The driver calls it when
// the core reports ack progress. c.mu is held.
func (c *Conn) notifyAckedLocked() {
	ev := &c.events
	for id, ch := range ev.acked {
		info, ok := c.core.Streams().Info(id)
		if ok && info.HasSend && info.Acked == ev.ackAt[id] {
			continue
		}
		close(ch)
		delete(ev.acked, id)
		delete(ev.ackAt, id)
	}
}

// closeEventsLocked wakes every waiter when the connection closes: no
// path or delivery will change any more. c.mu is held.
func (c *Conn) closeEventsLocked() {
	c.pathsChangedLocked()
	for id, ch := range c.events.acked {
		close(ch)
		delete(c.events.acked, id)
		delete(c.events.ackAt, id)
	}
}
