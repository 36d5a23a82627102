package quic

import (
	"errors"
	"fmt"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Errors returned by Endpoint, Conn and Stream.
var (
	// ErrClosed: the endpoint, or the stream half, was closed locally.
	ErrClosed = errors.New("quic: closed")
	// ErrHandshakeTimeout: Dial gave up after Config.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("quic: handshake timed out")
	// ErrIdleTimeout: the connection saw no traffic for the idle timeout.
	ErrIdleTimeout = core.ErrIdleTimeout
	// ErrStatelessReset: the peer lost the connection's state.
	ErrStatelessReset = core.ErrStatelessReset
	// ErrVersionNegotiation: the peer speaks no QUIC version we support.
	ErrVersionNegotiation = core.ErrVersionNegotiation
	// ErrDatagramsDisabled: the peer does not accept DATAGRAM frames.
	ErrDatagramsDisabled = core.ErrDatagramsDisabled
	// ErrDatagramTooLarge: the datagram does not fit in one packet.
	ErrDatagramTooLarge = core.ErrDatagramTooLarge
	// ErrUnsupportedAddr: the transport cannot reach this kind of address.
	ErrUnsupportedAddr = errors.New("quic: transport cannot send to this address")
	// ErrNoALPN: Dial was called without an application protocol.
	ErrNoALPN = errors.New("quic: no ALPN given")
)

// ApplicationError is a connection closed by an application with a code.
type ApplicationError struct {
	Remote bool // the peer closed the connection
	Code   uint64
	Reason string
}

func (e *ApplicationError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("quic: connection closed %s with application code %d", who, e.Code)
	}
	return fmt.Sprintf("quic: connection closed %s with application code %d: %s", who, e.Code, e.Reason)
}

// TransportError is a connection closed because of a protocol or TLS
// failure (RFC 9000 §20.1). TLS alerts travel as Code 0x100+alert.
type TransportError struct {
	Remote bool // the peer reported the error
	Code   uint64
	Reason string
}

// TLSAlert returns the TLS alert a CRYPTO_ERROR carries (RFC 9001 §4.8),
// for example 48 (unknown_ca: wrong server key) or 120
// (no_application_protocol: no common ALPN).
func (e *TransportError) TLSAlert() (alert uint8, ok bool) {
	if e.Code >= 0x100 && e.Code <= 0x1ff {
		return uint8(e.Code - 0x100), true
	}
	return 0, false
}

func (e *TransportError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	name := wire.TransportErrorCode(e.Code).String()
	if alert, ok := e.TLSAlert(); ok {
		name = fmt.Sprintf("TLS alert %d (%s)", alert, alertName(alert))
	}
	if e.Reason == "" {
		return fmt.Sprintf("quic: %s error: %s", who, name)
	}
	return fmt.Sprintf("quic: %s error: %s: %s", who, name, e.Reason)
}

// StreamError is a stream half ended by RESET_STREAM or STOP_SENDING.
type StreamError struct {
	StreamID int64
	Code     uint64
	Remote   bool // the peer reset or stopped the stream
}

func (e *StreamError) Error() string {
	if e.Remote {
		return fmt.Sprintf("quic: stream %d canceled by peer with code %d", e.StreamID, e.Code)
	}
	return fmt.Sprintf("quic: stream %d canceled locally with code %d", e.StreamID, e.Code)
}

// TLS alerts the handshake reports most often.
const (
	alertUnknownCA             = 48
	alertNoApplicationProtocol = 120
	alertCertificateRequired   = 116
	alertBadCertificate        = 42
	alertDecryptError          = 51
	alertHandshakeFailure      = 40
)

func alertName(a uint8) string {
	switch a {
	case alertUnknownCA:
		return "unknown_ca"
	case alertNoApplicationProtocol:
		return "no_application_protocol"
	case alertCertificateRequired:
		return "certificate_required"
	case alertBadCertificate:
		return "bad_certificate"
	case alertDecryptError:
		return "decrypt_error"
	case alertHandshakeFailure:
		return "handshake_failure"
	}
	return "alert"
}

// connError turns the core's close reason into the package's error types.
func connError(err error) error {
	var ce *core.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Application {
		return &ApplicationError{Remote: ce.Remote, Code: ce.Code, Reason: ce.Reason}
	}
	return &TransportError{Remote: ce.Remote, Code: ce.Code, Reason: ce.Reason}
}

// handshakeError explains a failed Dial in plain words, keeping the typed
// error reachable through errors.As.
func handshakeError(err error) error {
	var te *TransportError
	if !errors.As(err, &te) {
		return fmt.Errorf("quic: handshake failed: %w", err)
	}
	alert, ok := te.TLSAlert()
	var what string
	switch {
	case ok && alert == alertUnknownCA && !te.Remote:
		what = "server key does not match the dialled EndpointId"
	case ok && alert == alertUnknownCA:
		what = "server rejected our key"
	case ok && alert == alertNoApplicationProtocol:
		what = "server supports none of the offered ALPN protocols"
	case ok && alert == alertCertificateRequired:
		what = "server requires a client certificate"
	case ok:
		what = "TLS failure"
	default:
		return fmt.Errorf("quic: handshake failed: %w", err)
	}
	return fmt.Errorf("quic: handshake failed: %s (TLS alert %d): %w", what, alert, err)
}
