package endpoint

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
)

// DialHub makes *Endpoint a spoke.Dialer: spoke.Dial(ctx, ep, hub) runs a
// spoke target over direct and relay paths with Dial's racing policy.
func (e *Endpoint) DialHub(ctx context.Context, hub spoke.HubAddr, alpn string) (spoke.Conn, error) {
	c, err := e.Dial(ctx, Target{ID: hub.ID, Addrs: hub.Addrs, RelayURL: hub.RelayURL}, alpn)
	if err != nil {
		return nil, err
	}
	return &hubConn{c: c}, nil
}

// hubConn presents a *quic.Conn as a spoke.Conn.
type hubConn struct{ c *quic.Conn }

func (h *hubConn) OpenStream(ctx context.Context) (spoke.Stream, error) {
	s, err := h.c.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	return &hubStream{s: s}, nil
}

func (h *hubConn) Close(code uint64, reason string) error { return h.c.Close(code, reason) }
func (h *hubConn) Done() <-chan struct{}                  { return h.c.Done() }
func (h *hubConn) Err() error                             { return asCloseError(h.c.Err()) }

func (h *hubConn) Path() (spoke.PathKind, time.Duration) {
	if h.c.RemoteAddr().IsRelay() {
		return spoke.PathRelay, h.c.Stats().RTT
	}
	return spoke.PathDirect, h.c.Stats().RTT
}

// asCloseError reports an application close the way spoke expects it.
func asCloseError(err error) error {
	var ae *quic.ApplicationError
	if errors.As(err, &ae) {
		return &spoke.CloseError{Remote: ae.Remote, Code: ae.Code, Reason: ae.Reason, Err: err}
	}
	return err
}

// hubStream is a *quic.Stream with the acknowledgement bookkeeping spoke
// needs after the connection stops tracking a finished stream.
type hubStream struct {
	s         *quic.Stream
	written   atomic.Int64
	finished  atomic.Bool
	lastAcked atomic.Int64
}

func (h *hubStream) Read(p []byte) (int, error) {
	n, err := h.s.Read(p)
	return n, asCloseError(err)
}

func (h *hubStream) Write(p []byte) (int, error) {
	n, err := h.s.Write(p)
	h.written.Add(int64(n))
	return n, err
}

func (h *hubStream) Close() error {
	h.finished.Store(true)
	return h.s.Close()
}

// AckedBytes: once the connection forgets the stream (-1), everything was
// acknowledged if we had sent our FIN; otherwise the last value stands.
func (h *hubStream) AckedBytes() int64 {
	v := h.s.AckedBytes()
	if v >= 0 {
		h.lastAcked.Store(v)
		return v
	}
	if h.finished.Load() {
		return h.written.Load()
	}
	return h.lastAcked.Load()
}
