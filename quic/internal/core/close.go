package core

import (
	"errors"
	"fmt"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Errors a connection ends with, besides *CloseError.
var (
	ErrIdleTimeout        = errors.New("quic: idle timeout")
	ErrStatelessReset     = errors.New("quic: stateless reset by peer")
	ErrVersionNegotiation = errors.New("quic: peer supports no common QUIC version")
)

// CloseError describes a CONNECTION_CLOSE, sent or received.
type CloseError struct {
	Remote      bool   // the peer closed the connection
	Application bool   // an application close (0x1d) rather than a transport error
	Code        uint64 // application code, or transport error code (0x100+alert for TLS)
	FrameType   uint64 // transport errors: the frame that caused it
	Reason      string
}

func (e *CloseError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	if e.Application {
		return fmt.Sprintf("quic: %s closed connection: application code %d: %q", who, e.Code, e.Reason)
	}
	return fmt.Sprintf("quic: %s closed connection: %s: %s", who, wire.TransportErrorCode(e.Code), e.Reason)
}

// Close starts an application close with code and reason. The connection
// keeps answering with CONNECTION_CLOSE for three PTOs, then ends.
func (c *Conn) Close(now time.Time, code uint64, reason string) {
	c.startClosing(now, &CloseError{Application: true, Code: code, Reason: reason})
}

// closeWithError closes the connection because of a local or protocol error.
func (c *Conn) closeWithError(err error, now time.Time) {
	ce := &CloseError{Code: uint64(wire.InternalError), Reason: err.Error()}
	var te *wire.TransportError
	var ae *handshake.AlertError
	switch {
	case errors.As(err, &te):
		ce.Code, ce.FrameType, ce.Reason = uint64(te.Code), uint64(te.FrameType), te.Reason
	case errors.As(err, &ae):
		ce.Code, ce.Reason = ae.QUICErrorCode(), ae.Reason
	}
	c.startClosing(now, ce)
	c.err = fmt.Errorf("%w (%w)", ce, err)
}

func (c *Conn) startClosing(now time.Time, ce *CloseError) {
	if c.state >= stateClosing {
		return
	}
	c.state = stateClosing
	c.err = ce
	c.closing.frame = closeFrameOf(ce, c.app.canWrite && c.tls.State().Complete)
	c.closing.deadline = now.Add(3 * c.paths.primary().rec.ProbeTimeout())
	c.emit(Event{Kind: EventClosed, Err: c.err})
}

func closeFrameOf(ce *CloseError, appKeys bool) *wire.Frame {
	reason := ce.Reason
	if len(reason) > 256 {
		reason = reason[:256]
	}
	if ce.Application && appKeys {
		return &wire.Frame{Type: wire.FrameApplicationClose, ErrorCode: ce.Code, Reason: []byte(reason)}
	}
	code := ce.Code
	if ce.Application {
		// Without 1-RTT keys an application close would reveal the code in
		// clear; RFC 9000 §10.2.3 sends APPLICATION_ERROR instead.
		code, reason = uint64(wire.ApplicationError), ""
	}
	return &wire.Frame{Type: wire.FrameConnectionClose, ErrorCode: code, ClosingFrameType: wire.FrameType(ce.FrameType), Reason: []byte(reason)}
}

// terminate ends the connection at once, without sending anything.
func (c *Conn) terminate(err error) {
	if c.state == stateClosed {
		return
	}
	notified := c.state >= stateClosing
	c.state = stateClosed
	if !notified {
		c.err = err
		c.emit(Event{Kind: EventClosed, Err: err})
	}
}
