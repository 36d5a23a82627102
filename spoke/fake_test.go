package spoke

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/wire"
)

// fakeHub is an in-memory hub behind a fake transport. Its "QUIC stack"
// acknowledges a random prefix of the written bytes on every write and
// every AckedBytes poll, and its "application" processes (records and
// echoes) exactly the frames whose bytes are acknowledged, so that a frame
// acknowledged is a frame processed, and nothing else is.
type fakeHub struct {
	mu        sync.Mutex
	rng       *rand.Rand
	ackAll    bool  // acknowledge everything at once
	noEcho    bool  // do not echo
	dialErr   error // fail dials with this
	dials     int
	processed []string // ids in processing order
	conns     []*fakeConn
	// inject are raw bytes sent to the spoke right after the stream opens.
	inject []byte
}

func newFakeHub(seed uint64) *fakeHub {
	return &fakeHub{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (h *fakeHub) DialHub(ctx context.Context, _ identity.EndpointAddr, _ string) (Conn, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dials++
	if h.dialErr != nil {
		return nil, h.dialErr
	}
	pr, pw := io.Pipe()
	c := &fakeConn{hub: h, done: make(chan struct{}), pr: pr, pw: pw, out: make(chan []byte, 1024)}
	h.conns = append(h.conns, c)
	go c.pump()
	return c, nil
}

// current returns the newest connection.
func (h *fakeHub) current() *fakeConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.conns) == 0 {
		return nil
	}
	return h.conns[len(h.conns)-1]
}

func (h *fakeHub) processedIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.processed...)
}

type fakeConn struct {
	hub     *fakeHub
	done    chan struct{}
	err     error
	dead    bool
	opened  bool
	written []byte
	acked   int64
	parsed  int64
	pr      *io.PipeReader // spoke reads hub frames here
	pw      *io.PipeWriter
	out     chan []byte   // frames for pump to write into pw
	ackCh   chan struct{} // closed when acked grows or the conn dies
}

// pump writes hub frames to the spoke without holding the hub's lock.
func (c *fakeConn) pump() {
	for {
		select {
		case b := <-c.out:
			if _, err := c.pw.Write(b); err != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}

// kill ends the connection with err; h.mu is held.
func (c *fakeConn) killLocked(err error) {
	if c.dead {
		return
	}
	c.dead, c.err = true, err
	c.ackedChangedLocked()
	close(c.done)
	c.pw.CloseWithError(err)
}

func (c *fakeConn) kill(err error) {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	c.killLocked(err)
}

// send queues a frame body for the spoke; h.mu is held.
func (c *fakeConn) sendLocked(frame []byte) {
	select {
	case c.out <- frame:
	default: // the test spoke is not reading; dropping is fine for fakes
	}
}

// ackSome acknowledges a random amount of the unacknowledged bytes and
// processes the frames that became complete; h.mu is held.
func (c *fakeConn) ackSomeLocked() {
	if c.dead {
		return
	}
	h := c.hub
	unacked := int64(len(c.written)) - c.acked
	if unacked == 0 {
		return
	}
	if h.ackAll {
		c.acked += unacked
	} else {
		// At least one byte: each look makes progress, as acks arriving
		// would, so a waiter woken by it always gets more.
		c.acked += 1 + h.rng.Int64N(unacked)
	}
	c.ackedChangedLocked()
	for {
		rest := c.written[c.parsed:c.acked]
		if len(rest) < 4 {
			return
		}
		n := int64(binary.BigEndian.Uint32(rest))
		if int64(len(rest)) < 4+n {
			return
		}
		body := rest[4 : 4+n]
		c.parsed += 4 + n
		e, err := wire.ParseEnvelope(body)
		if err != nil {
			c.sendLocked(mustFrame(wire.ErrorEnvelope("", err.Error())))
			continue
		}
		h.processed = append(h.processed, e.ID)
		if !h.noEcho {
			c.sendLocked(mustFrame(e.Echo()))
		}
	}
}

func mustFrame(e wire.Envelope) []byte {
	b, err := wire.AppendFrame(nil, e)
	if err != nil {
		panic(err)
	}
	return b
}

func (c *fakeConn) OpenStream(context.Context) (Stream, error) {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	if c.dead {
		return nil, c.err
	}
	c.opened = true
	if len(c.hub.inject) > 0 {
		c.sendLocked(append([]byte(nil), c.hub.inject...))
	}
	return (*fakeStream)(c), nil
}

func (c *fakeConn) Close(code uint64, reason string) error {
	c.kill(&CloseError{Code: code, Reason: reason})
	return nil
}

func (c *fakeConn) Done() <-chan struct{} { return c.done }

func (c *fakeConn) Err() error {
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.err
}

func (c *fakeConn) Path() (PathKind, time.Duration) { return PathDirect, time.Millisecond }

type fakeStream fakeConn

func (s *fakeStream) Read(p []byte) (int, error) { return s.pr.Read(p) }

func (s *fakeStream) Write(p []byte) (int, error) {
	c := (*fakeConn)(s)
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	if c.dead {
		return 0, c.err
	}
	c.written = append(c.written, p...)
	c.ackSomeLocked()
	return len(p), nil
}

func (s *fakeStream) Close() error { return nil }

func (s *fakeStream) AckedBytes() int64 {
	c := (*fakeConn)(s)
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	c.ackSomeLocked()
	return c.acked
}

// AckedChanged signals acknowledgement progress, as quic.Stream's.
func (s *fakeStream) AckedChanged() <-chan struct{} {
	c := (*fakeConn)(s)
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	if c.ackCh == nil {
		c.ackCh = make(chan struct{})
		if c.dead {
			close(c.ackCh)
		}
	}
	return c.ackCh
}

// ackedChangedLocked wakes AckedChanged waiters; h.mu is held.
func (c *fakeConn) ackedChangedLocked() {
	if c.ackCh != nil {
		close(c.ackCh)
		c.ackCh = nil
	}
}

var errFakeDeath = errors.New("fake: connection died")
