package quic

import (
	"runtime"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// run is the connection's driver goroutine: it feeds the core incoming
// datagrams and timeouts, dispatches its events, and sends what it wants
// to send. It alone calls HandleDatagram, HandleTimeout and PollTransmit.
func (c *Conn) run() {
	defer c.finish()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		res := c.step()
		c.flush(res.queued)
		if res.exit {
			return
		}
		if res.queued == sendBatch {
			continue // the batch was full: there is more to send
		}
		d := time.Until(res.deadline)
		if res.queued > 0 && (res.held || (!res.deadline.IsZero() && d <= 0)) {
			// More is due at once (held input, or the CIDs drawn after
			// the first flight): first let the goroutines that carry
			// what was just written, such as a relay's writer, send it.
			runtime.Gosched()
		}
		if !res.deadline.IsZero() {
			if d <= 0 && res.queued == 0 {
				// The core asked for a timeout it has just handled without
				// producing anything; wait a little rather than spin.
				d = time.Millisecond
			}
			timer.Reset(d)
		} else {
			timer.Stop()
		}
		if !res.natAt.IsZero() {
			c.fine.arm(time.Now(), res.natAt, c.wake)
		}
		select {
		case <-c.wakeCh:
		case <-timer.C:
		case <-c.ep.closing:
			// The endpoint closed the core already; send the
			// CONNECTION_CLOSE and stop.
			res := c.step()
			c.flush(res.queued)
			return
		}
	}
}

type stepResult struct {
	queued   int       // datagrams placed in c.send
	deadline time.Time // next core timeout
	natAt    time.Time // next hole-punching timeout, woken for by c.fine
	exit     bool
	held     bool // input was left for the next step
}

// step runs one round of the core under the lock.
func (c *Conn) step() stepResult {
	in := c.takeInput()
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var res stepResult
	for i := range in {
		d := &in[i]
		data := (*d.buf)[:d.n]
		if c.qlog != nil {
			c.qlog.datagram(now, "transport:packet_received", data)
		}
		c.core.HandleDatagram(now, d.from, 0, data)
		c.ep.putBuf(d.buf)
		d.buf = nil
		if i+1 < len(in) && c.core.HandshakeDoneOwed() {
			// The client waits for HANDSHAKE_DONE: it goes out before
			// the rest of the batch is read.
			c.holdInput(in[i+1:])
			res.held = true
			break
		}
	}
	c.returnInput(in)
	if at, ok := c.core.Timeout(); ok && !now.Before(at) {
		c.core.HandleTimeout(now)
	}
	c.dispatchLocked(now)
	if c.core.Streams().TakeAckProgress() {
		c.notifyAckedLocked()
	}
	if c.core.TakeResetTokensChanged() {
		c.syncResetTokensLocked()
	}
	res.queued = c.pollTransmitLocked(now)
	c.dispatchLocked(now) // sending can close the connection (e.g. key exhaustion)
	closing := c.err != nil
	res.exit = c.core.IsClosed() || (c.abandoned && closing)
	res.deadline, _ = c.core.Timeout()
	res.natAt, _ = c.core.NatTimeout()
	return res
}

// pollTransmitLocked fills a pooled send buffer with up to sendBatch
// datagrams and returns how many; with none, the buffer goes straight back.
func (c *Conn) pollTransmitLocked(now time.Time) int {
	sb := sendPool.Get().(*sendBuffer)
	queued, off := 0, 0
	for queued < sendBatch {
		n, to := c.core.PollTransmit(now, sb.slab[off:off+sendBufSize])
		if n == 0 {
			break
		}
		sb.batch[queued] = outDatagram{off: off, n: n, to: to}
		off += n
		queued++
	}
	if queued == 0 {
		sendPool.Put(sb)
		return 0
	}
	c.send = sb
	return queued
}

// flush writes the queued datagrams outside the lock, as GSO batches when
// the transport can, and returns the send buffer to its pool.
func (c *Conn) flush(n int) {
	sb := c.send
	if n == 0 || sb == nil {
		return
	}
	c.send = nil
	defer sendPool.Put(sb)
	batch, slab := sb.batch[:n], sb.slab[:]
	if c.qlog != nil {
		now := time.Now()
		for _, o := range batch {
			c.qlog.datagram(now, "transport:packet_sent", slab[o.off:o.off+o.n])
		}
	}
	bw, batching := c.ep.tr.(BatchWriter)
	for i := 0; i < n; {
		first := batch[i]
		j := i + 1
		if batching {
			// Extend the run while sizes match; a shorter datagram may end it.
			for j < n && j-i < maxGSOSegments && batch[j].to == first.to && batch[j-1].n == first.n && batch[j].n <= first.n {
				j++
			}
		}
		last := batch[j-1]
		var err error
		if j-i > 1 {
			err = bw.WriteBatch(slab[first.off:last.off+last.n], first.n, first.to)
		} else {
			err = c.ep.tr.WriteTo(slab[first.off:first.off+first.n], first.to)
		}
		if err != nil {
			c.log.Debug("send failed", "to", first.to, "err", err)
		}
		i = j
	}
}

// holdInput puts datagrams taken but not handled back at the head of the
// queue, for the next step.
func (c *Conn) holdInput(rest []inDatagram) {
	c.inMu.Lock()
	c.inQ = append(append(make([]inDatagram, 0, len(rest)+len(c.inQ)), rest...), c.inQ...)
	c.inMu.Unlock()
	for i := range rest {
		rest[i].buf = nil
	}
	c.wake()
}

// takeInput swaps out the queue of received datagrams.
func (c *Conn) takeInput() []inDatagram {
	c.inMu.Lock()
	in := c.inQ
	c.inQ = c.inSpare[:0]
	c.inSpare = nil
	c.inMu.Unlock()
	return in
}

func (c *Conn) returnInput(in []inDatagram) {
	c.inMu.Lock()
	if c.inSpare == nil {
		c.inSpare = in[:0]
	}
	c.inMu.Unlock()
}

// dispatchLocked applies the core's events: routing changes, and wake-ups
// of the goroutines waiting in Stream and Conn calls.
func (c *Conn) dispatchLocked(now time.Time) {
	for {
		ev, ok := c.core.PollEvent()
		if !ok {
			return
		}
		switch ev.Kind {
		case core.EventHandshakeComplete:
			c.onHandshakeLocked()
		case core.EventStream:
			c.streamEventLocked(ev.Stream)
		case core.EventDatagram:
			signal(c.dgramSig)
		case core.EventNewCID:
			c.ep.mu.Lock()
			c.ep.ep.CIDIssued(c, ev.CID[:])
			c.ep.mu.Unlock()
		case core.EventRetiredCID:
			c.ep.mu.Lock()
			c.ep.ep.CIDRetired(c, ev.CID[:])
			c.ep.mu.Unlock()
		case core.EventClosed:
			c.onClosedLocked(ev.Err)
		case core.EventPathOpened, core.EventPathValidated, core.EventPathAbandoned, core.EventPathStatus, core.EventNatAddresses, core.EventPeerRecheck:
			c.onPathEventLocked(ev)
		case core.EventObservedAddress:
			c.onObservedAddressLocked(ev)
		}
	}
}

// syncResetTokensLocked gives the endpoint the peer's reset tokens after
// the core reported a change. c.mu is held.
func (c *Conn) syncResetTokensLocked() {
	tokens := c.core.AppendResetTokens(nil)
	c.ep.mu.Lock()
	c.ep.ep.SetResetTokens(c, tokens)
	c.ep.mu.Unlock()
}

func (c *Conn) onHandshakeLocked() {
	st := c.core.TLSState()
	c.remoteID, c.alpn, c.handshaken = st.PeerID(), st.ALPN, true
	if c.handshakeTimer != nil {
		c.handshakeTimer.Stop()
	}
	if c.core.Side() == core.Server {
		c.announceNatLocked()
	}
	c.ep.handshakeDone(c)
	close(c.handshakeCh)
	c.log.Debug("handshake complete", "peer", c.remoteID.Short(), "alpn", c.alpn, "side", c.core.Side())
}

func (c *Conn) onClosedLocked(err error) {
	if c.err != nil {
		return
	}
	if err == nil {
		err = ErrClosed
	}
	c.err = connError(err)
	c.cancel(c.err)
	c.closeEventsLocked()
	close(c.closedCh)
	if c.qlog != nil {
		c.qlog.closed(time.Now(), c.err)
	}
	c.log.Debug("connection closed", "err", c.err)
}

func (c *Conn) streamEventLocked(ev streams.Event) {
	if ev.Kind == streams.EventStreamsAvailable {
		signal(c.openSig[ev.Dir])
		return
	}
	s := c.streams[ev.ID]
	if ev.Kind == streams.EventOpened {
		if s == nil {
			c.streamLocked(ev.ID)
		}
		signal(c.acceptSig[ev.ID.Dir()])
		return
	}
	if s == nil {
		return // the application is done with this stream
	}
	switch ev.Kind {
	case streams.EventReadable, streams.EventReset:
		signal(s.readSig)
	case streams.EventWritable:
		signal(s.writeSig)
	case streams.EventStopped:
		if s.writeErr == nil {
			s.writeErr = &StreamError{StreamID: int64(s.id), Code: ev.Code, Remote: true}
		}
		s.sendDone = true
		signal(s.writeSig)
		c.forgetLocked(s)
	case streams.EventFinished:
		s.sendDone = true
		signal(s.writeSig)
		c.forgetLocked(s)
	}
}

// finish runs when the driver stops: the connection leaves the endpoint.
func (c *Conn) finish() {
	c.mu.Lock()
	if c.err == nil {
		c.onClosedLocked(ErrClosed)
	}
	c.mu.Unlock()
	if c.handshakeTimer != nil {
		c.handshakeTimer.Stop()
	}
	if c.qlog != nil {
		c.qlog.close() // before unregister: Endpoint.Close waits for it
	}
	c.ep.unregister(c)
	for _, d := range c.takeInput() {
		c.ep.putBuf(d.buf)
	}
	close(c.doneCh)
}
