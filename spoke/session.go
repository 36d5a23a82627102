package spoke

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/wire"
)

const (
	echoSuffix = wire.EchoSuffix
	// writeBatch is how many queued bytes one stream write takes at most
	// (a single larger frame still goes out whole).
	writeBatch = 64 << 10
)

// session is one connection and its stream. It ends when either dies;
// the run loop then settles the queue and reconnects.
type session struct {
	t      *Target
	conn   Conn
	stream Stream
	kick   chan struct{} // wakes the writer
	dead   chan struct{}

	once        sync.Once
	err         error
	closeCode   uint64
	closeReason string
}

// attach makes conn and stream the current session, reports up (the
// connection's path filled in), then starts its goroutines: reported
// any later, up could follow the session's own path_changed and name
// the path the connection had already left.
func (t *Target) attach(conn Conn, stream Stream, up StatusEvent) *session {
	s := &session{
		t: t, conn: conn, stream: stream,
		kick: make(chan struct{}, 1),
		dead: make(chan struct{}),
	}
	kind, rtt := conn.Path()
	t.mu.Lock()
	t.sess = s
	t.state = StateConnected
	t.path, t.rtt = kind, rtt
	t.signalLocked()
	t.mu.Unlock()
	up.Path, up.RTT = kind, rtt
	t.emit(up)
	go s.readLoop()
	go s.writeLoop()
	go s.watch()
	s.wake()
	return s
}

func (s *session) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// kill ends the session; the first reason wins.
func (s *session) kill(err error, code uint64, reason string) {
	s.once.Do(func() {
		s.err, s.closeCode, s.closeReason = err, code, reason
		close(s.dead)
	})
}

func (s *session) watch() {
	var pathChanged <-chan struct{}
	if pn, ok := s.conn.(PathNotifier); ok {
		pathChanged = pn.PathChanged()
	}
	for {
		select {
		case <-s.conn.Done():
			s.kill(s.conn.Err(), CloseOK, "")
			return
		case <-s.t.closed:
			s.kill(errClosing, CloseOK, "spoke closing")
			return
		case <-s.dead:
			return
		case <-pathChanged:
			s.pathChanged()
		}
	}
}

// pathChanged reports a change of the connection's path kind, such as a
// relay connection moving to a hole-punched direct path.
func (s *session) pathChanged() {
	t := s.t
	kind, rtt := s.conn.Path()
	t.mu.Lock()
	if t.sess != s || t.path == kind {
		t.mu.Unlock()
		return
	}
	t.path, t.rtt = kind, rtt
	t.mu.Unlock()
	t.emit(StatusEvent{Kind: EventPathChanged, Path: kind, RTT: rtt})
}

func (s *session) writeLoop() {
	t := s.t
	var buf []byte
	for {
		t.mu.Lock()
		if t.sess != s {
			t.mu.Unlock()
			return
		}
		buf = t.q.take(buf[:0], writeBatch)
		t.mu.Unlock()
		if len(buf) == 0 {
			select {
			case <-s.kick:
				continue
			case <-s.dead:
				return
			}
		}
		if _, err := s.stream.Write(buf); err != nil {
			s.kill(err, CloseOK, "")
			return
		}
		if cap(buf) > 4*writeBatch {
			buf = nil // one huge frame should not pin its memory
		}
	}
}

func (s *session) readLoop() {
	t := s.t
	r := wire.NewReader(s.stream, t.opts.maxFrame)
	for {
		e, _, err := r.ReadEnvelope()
		if err != nil && wire.IsRecoverable(err) {
			t.mu.Lock()
			t.stats.Malformed++
			t.mu.Unlock()
			t.emit(StatusEvent{Kind: EventMalformed, Err: err})
			continue
		}
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				s.kill(ErrStreamEnded, CloseOK, "")
			case errors.Is(err, wire.ErrFrameTooLarge), errors.Is(err, wire.ErrTruncated):
				// The byte stream cannot be split into frames any more:
				// report it and start over on a new connection.
				t.mu.Lock()
				t.stats.Malformed++
				t.mu.Unlock()
				t.emit(StatusEvent{Kind: EventMalformed, Err: err})
				s.kill(err, CloseProtocol, err.Error())
			default:
				s.kill(err, CloseOK, "")
			}
			return
		}
		t.mu.Lock()
		t.stats.Received++
		if t.sess == s && strings.HasSuffix(e.Type, echoSuffix) {
			t.q.echo(e.Type, e.ID)
		}
		t.mu.Unlock()
		t.deliver(e)
	}
}

// run supervises sessions until Close (or a final disconnect).
func (t *Target) run(s *session) {
	defer close(t.done)
	for {
		<-s.dead
		closing := t.isClosing()
		if closing {
			s.stream.Close() // finish our half after what was written
		}
		// Close before reading the acknowledged offset, so that it cannot
		// grow afterwards: a frame counted unacknowledged is never one the
		// hub acknowledged.
		s.conn.Close(s.closeCode, s.closeReason)
		t.mu.Lock()
		t.sess = nil
		before := t.q.len()
		resend := t.q.streamDied(s.stream.AckedBytes())
		t.stats.Delivered += uint64(before - t.q.len())
		t.lastErr = s.err
		if closing {
			t.signalLocked()
			t.mu.Unlock()
			return
		}
		t.state = StateReconnecting
		t.signalLocked()
		t.mu.Unlock()
		t.emit(StatusEvent{Kind: EventDisconnected, Err: s.err, Resent: resend})
		if !t.opts.reconnect {
			t.mu.Lock()
			left := t.q.drain()
			t.state = StateClosed
			t.signalLocked()
			t.mu.Unlock()
			t.fail(left, ErrDisconnected)
			t.emit(StatusEvent{Kind: EventClosed, Err: s.err})
			return
		}
		if s = t.reconnect(resend); s == nil {
			return
		}
	}
}

// reconnect dials with backoff until it succeeds or the target closes.
func (t *Target) reconnect(resend int) *session {
	for attempt := 1; ; attempt++ {
		if !t.sleep(t.opts.backoff(attempt)) {
			return nil
		}
		t.emit(StatusEvent{Kind: EventConnecting, Attempt: attempt})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-t.closed:
				cancel()
			case <-ctx.Done():
			}
		}()
		conn, stream, err := t.connect(ctx)
		cancel()
		if t.isClosing() {
			if err == nil {
				conn.Close(CloseOK, "spoke closing")
			}
			return nil
		}
		if err != nil {
			t.mu.Lock()
			t.lastErr = err
			t.mu.Unlock()
			t.emit(StatusEvent{Kind: EventDialFailed, Attempt: attempt, Err: err})
			continue
		}
		t.mu.Lock()
		t.reconnects++
		n := t.reconnects
		t.stats.Resent += uint64(resend)
		t.mu.Unlock()
		return t.attach(conn, stream, StatusEvent{Kind: EventReconnected, Attempt: attempt, Reconnects: n, Resent: resend})
	}
}

// ackLoop drops acknowledged frames and expires overdue ones. It waits
// for acknowledgement progress (AckNotifier), the next frame deadline or
// new frames, and polls only streams that cannot signal progress.
func (t *Target) ackLoop() {
	timer := time.NewTimer(t.opts.ackPoll)
	defer timer.Stop()
	var acks <-chan struct{}
	woken := false // the last wake-up was an ack signal
	for {
		t.mu.Lock()
		n := 0
		acks = nil
		if s := t.sess; s != nil {
			if an, ok := s.stream.(AckNotifier); ok {
				acks = an.AckedChanged() // before AckedBytes: no change missed
			}
			n = t.q.acked(s.stream.AckedBytes())
			t.stats.Delivered += uint64(n)
		}
		now := t.now()
		expired := t.q.expire(now)
		if n > 0 || len(expired) > 0 {
			t.signalLocked()
		}
		idle := t.q.len() == 0
		next := t.q.nextDeadline()
		t.mu.Unlock()
		t.fail(expired, ErrDeadline)
		if woken && n == 0 {
			acks = nil // a signal without progress (a dead stream): poll once
		}
		woken = false
		if idle {
			select {
			case <-t.ackKick:
				continue
			case <-t.closed:
				return
			}
		}
		wait := t.opts.ackPoll
		if acks != nil {
			wait = time.Hour // only frame deadlines remain to wait for
		}
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(now), 0))
		}
		timer.Reset(wait)
		select {
		case <-acks:
			woken = true
		case <-t.ackKick:
		case <-timer.C:
		case <-t.closed:
			return
		}
	}
}
