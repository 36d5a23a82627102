package spoke

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// Errors of QUICDialer.
var (
	// ErrNoAddress: the hub address has no direct address to dial.
	ErrNoAddress = errors.New("spoke: hub has no direct address")
	// ErrRelayUnsupported: only a relay URL is known, and this dialer
	// speaks direct UDP only.
	ErrRelayUnsupported = errors.New("spoke: relay paths need a relay-capable endpoint")
)

// QUICDialer dials hubs over a plain QUIC endpoint at their direct UDP
// addresses. With several addresses it tries them all at once and keeps
// the first connection that completes its handshake.
type QUICDialer struct {
	Endpoint *quic.Endpoint
}

// NewQUICDialer returns a Dialer over ep.
func NewQUICDialer(ep *quic.Endpoint) *QUICDialer { return &QUICDialer{Endpoint: ep} }

// DialHub implements Dialer.
func (d *QUICDialer) DialHub(ctx context.Context, hub identity.EndpointAddr, alpn string) (Conn, error) {
	if len(hub.Addrs) == 0 {
		if len(hub.Relays) > 0 {
			return nil, ErrRelayUnsupported
		}
		return nil, ErrNoAddress
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn *quic.Conn
		err  error
	}
	results := make(chan result, len(hub.Addrs))
	for _, ap := range hub.Addrs {
		go func(ap netip.AddrPort) {
			c, err := d.Endpoint.Dial(ctx, quic.UDPAddr(ap), hub.ID, alpn)
			results <- result{c, err}
		}(ap)
	}
	var first error
	var won *quic.Conn
	for range hub.Addrs {
		r := <-results
		switch {
		case r.err == nil && won == nil:
			won = r.conn
			cancel() // stop the other attempts
		case r.err == nil:
			r.conn.Close(CloseOK, "duplicate dial")
		case first == nil || isTimeout(first):
			// A definite answer (a TLS alert) explains more than a
			// timeout on another address.
			first = r.err
		}
	}
	if won != nil {
		return &quicConn{c: won}, nil
	}
	return nil, first
}

func isTimeout(err error) bool {
	return errors.Is(err, quic.ErrHandshakeTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}

// WrapQUIC presents an established *quic.Conn as a Conn, for Dialers built
// on other ways of reaching a hub (the endpoint package's relay paths).
func WrapQUIC(c *quic.Conn) Conn { return &quicConn{c: c} }

// quicConn adapts *quic.Conn to Conn.
type quicConn struct{ c *quic.Conn }

func (q *quicConn) OpenStream(ctx context.Context) (Stream, error) {
	s, err := q.c.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	// The hub learns of the stream only from a frame on it: announce it
	// now, so a spoke that only listens receives fan-out at once.
	if err := s.Announce(); err != nil {
		return nil, err
	}
	return &quicStream{Stream: s}, nil
}

func (q *quicConn) Close(code uint64, reason string) error { return q.c.Close(code, reason) }
func (q *quicConn) Done() <-chan struct{}                  { return q.c.Done() }
func (q *quicConn) Err() error                             { return closeError(q.c.Err()) }

func (q *quicConn) Path() (PathKind, time.Duration) {
	kind := PathDirect
	if q.c.RemoteAddr().IsRelay() {
		kind = PathRelay
	}
	return kind, q.c.Stats().RTT
}

// closeError turns an application close into a *CloseError.
func closeError(err error) error {
	var ae *quic.ApplicationError
	if errors.As(err, &ae) {
		return &CloseError{Remote: ae.Remote, Code: ae.Code, Reason: ae.Reason, Err: err}
	}
	return err
}

// quicStream adds the bookkeeping AckedBytes needs once the connection
// forgets a finished stream.
type quicStream struct {
	*quic.Stream
	written  atomic.Int64
	finished atomic.Bool
	last     atomic.Int64
}

func (s *quicStream) Write(p []byte) (int, error) {
	n, err := s.Stream.Write(p)
	s.written.Add(int64(n))
	return n, err
}

func (s *quicStream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	return n, closeError(err)
}

func (s *quicStream) Close() error {
	s.finished.Store(true)
	return s.Stream.Close()
}

func (s *quicStream) AckedBytes() int64 {
	v := s.Stream.AckedBytes()
	if v < 0 {
		// Forgotten: after our FIN that means fully acknowledged.
		if s.finished.Load() {
			return s.written.Load()
		}
		return s.last.Load()
	}
	s.last.Store(v)
	return v
}
