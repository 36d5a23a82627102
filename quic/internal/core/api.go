package core

import (
	"errors"

	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// Errors of the application-facing calls.
var (
	ErrNotEstablished     = errors.New("quic: connection not established")
	ErrConnClosed         = errors.New("quic: connection closed")
	ErrDatagramsDisabled  = errors.New("quic: peer does not accept datagrams")
	ErrDatagramTooLarge   = errors.New("quic: datagram too large")
	ErrDatagramQueueFull  = errors.New("quic: datagram send queue full")
	ErrStreamLimitReached = streams.ErrStreamLimit
	ErrWouldBlock         = streams.ErrWouldBlock
)

func (c *Conn) usable() error {
	if c.state >= stateClosing {
		return ErrConnClosed
	}
	if c.state != stateEstablished {
		return ErrNotEstablished
	}
	return nil
}

// Streams is the stream API of a connection, from Conn.Streams.
type Streams struct{ c *Conn }

// Streams returns the connection's stream API.
func (c *Conn) Streams() Streams { return Streams{c} }

// Open opens a locally initiated stream. It fails with
// ErrStreamLimitReached until the peer allows more streams.
func (s Streams) Open(bidi bool) (streams.StreamID, error) {
	if err := s.c.usable(); err != nil {
		return 0, err
	}
	return s.c.streams.OpenStream(dir(bidi))
}

// Accept returns the next stream the peer opened, if any.
func (s Streams) Accept(bidi bool) (streams.StreamID, bool) {
	return s.c.streams.AcceptStream(dir(bidi))
}

func dir(bidi bool) streams.Dir {
	if bidi {
		return streams.Bidi
	}
	return streams.Uni
}

// Read reads received stream data; ErrWouldBlock means wait for an event.
func (s Streams) Read(id streams.StreamID, p []byte) (int, error) { return s.c.streams.Read(id, p) }

// Write buffers stream data; a short write returns ErrWouldBlock.
func (s Streams) Write(id streams.StreamID, p []byte) (int, error) {
	if s.c.state >= stateClosing {
		return 0, ErrConnClosed
	}
	return s.c.streams.Write(id, p)
}

// CloseWrite finishes the sending half after the buffered data.
func (s Streams) CloseWrite(id streams.StreamID) error { return s.c.streams.CloseWrite(id) }

// CancelWrite resets the sending half with code.
func (s Streams) CancelWrite(id streams.StreamID, code uint64) error {
	return s.c.streams.CancelWrite(id, code)
}

// CancelRead asks the peer to stop sending with code.
func (s Streams) CancelRead(id streams.StreamID, code uint64) error {
	return s.c.streams.CancelRead(id, code)
}

// Info reports a stream's state.
func (s Streams) Info(id streams.StreamID) (streams.StreamInfo, bool) { return s.c.streams.Info(id) }

// Announce sends an empty STREAM frame for a locally opened stream that
// has no data yet, so the peer can accept it (see
// streams.Manager.Announce).
func (s Streams) Announce(id streams.StreamID) error {
	if s.c.state >= stateClosing {
		return ErrConnClosed
	}
	return s.c.streams.Announce(id)
}

// TakeAckProgress reports whether the peer acknowledged stream data since
// the last call, so a driver can wake callers waiting for delivery (see
// Info's Acked).
func (s Streams) TakeAckProgress() bool {
	p := s.c.ackProgress
	s.c.ackProgress = false
	return p
}
