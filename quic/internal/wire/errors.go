package wire

import (
	"fmt"
	"strconv"
)

// TransportErrorCode is a QUIC transport error code (RFC 9000 §20.1), sent in
// a CONNECTION_CLOSE frame of type 0x1c.
type TransportErrorCode uint64

// RFC 9000 §20.1 transport error codes.
const (
	NoError                 TransportErrorCode = 0x00
	InternalError           TransportErrorCode = 0x01
	ConnectionRefused       TransportErrorCode = 0x02
	FlowControlError        TransportErrorCode = 0x03
	StreamLimitError        TransportErrorCode = 0x04
	StreamStateError        TransportErrorCode = 0x05
	FinalSizeError          TransportErrorCode = 0x06
	FrameEncodingError      TransportErrorCode = 0x07
	TransportParameterError TransportErrorCode = 0x08
	ConnectionIDLimitError  TransportErrorCode = 0x09
	ProtocolViolation       TransportErrorCode = 0x0a
	InvalidToken            TransportErrorCode = 0x0b
	ApplicationError        TransportErrorCode = 0x0c
	CryptoBufferExceeded    TransportErrorCode = 0x0d
	KeyUpdateError          TransportErrorCode = 0x0e
	AEADLimitReached        TransportErrorCode = 0x0f
	// NoViablePath: multipath also uses it when the last path was
	// abandoned and none reopened.
	NoViablePath TransportErrorCode = 0x10

	// CryptoErrorBase plus a TLS alert number is a CRYPTO_ERROR.
	CryptoErrorBase TransportErrorCode = 0x0100
)

// Error codes carried in PATH_ABANDON frames (draft-ietf-quic-multipath, as
// noq uses them).
const (
	ApplicationAbandonPath   TransportErrorCode = 0x3e
	PathResourceLimitReached TransportErrorCode = 0x3e75
	PathUnstableOrPoor       TransportErrorCode = 0x3e76
	NoCIDAvailableForPath    TransportErrorCode = 0x3e77
)

var transportErrorNames = map[TransportErrorCode]string{
	NoError:                 "NO_ERROR",
	InternalError:           "INTERNAL_ERROR",
	ConnectionRefused:       "CONNECTION_REFUSED",
	FlowControlError:        "FLOW_CONTROL_ERROR",
	StreamLimitError:        "STREAM_LIMIT_ERROR",
	StreamStateError:        "STREAM_STATE_ERROR",
	FinalSizeError:          "FINAL_SIZE_ERROR",
	FrameEncodingError:      "FRAME_ENCODING_ERROR",
	TransportParameterError: "TRANSPORT_PARAMETER_ERROR",
	ConnectionIDLimitError:  "CONNECTION_ID_LIMIT_ERROR",
	ProtocolViolation:       "PROTOCOL_VIOLATION",
	InvalidToken:            "INVALID_TOKEN",
	ApplicationError:        "APPLICATION_ERROR",
	CryptoBufferExceeded:    "CRYPTO_BUFFER_EXCEEDED",
	KeyUpdateError:          "KEY_UPDATE_ERROR",
	AEADLimitReached:        "AEAD_LIMIT_REACHED",
	NoViablePath:            "NO_VIABLE_PATH",
}

// CryptoError returns the CRYPTO_ERROR code for a TLS alert.
func CryptoError(alert uint8) TransportErrorCode { return CryptoErrorBase + TransportErrorCode(alert) }

// IsCryptoError reports whether c is in the CRYPTO_ERROR range 0x100-0x1ff.
func (c TransportErrorCode) IsCryptoError() bool { return c >= 0x100 && c <= 0x1ff }

func (c TransportErrorCode) String() string {
	if name, ok := transportErrorNames[c]; ok {
		return name
	}
	if c.IsCryptoError() {
		return "CRYPTO_ERROR(alert " + strconv.Itoa(int(c-CryptoErrorBase)) + ")"
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

// TransportError is a connection error: the code and the offending frame type
// go into the CONNECTION_CLOSE frame the core sends.
type TransportError struct {
	Code      TransportErrorCode
	FrameType FrameType
	Reason    string
}

func (e *TransportError) Error() string {
	if e.FrameType != 0 {
		return fmt.Sprintf("quic: %s (frame 0x%x): %s", e.Code, uint64(e.FrameType), e.Reason)
	}
	return fmt.Sprintf("quic: %s: %s", e.Code, e.Reason)
}

// Is lets errors.Is match on the code alone: errors.Is(err,
// &TransportError{Code: FrameEncodingError}).
func (e *TransportError) Is(target error) bool {
	t, ok := target.(*TransportError)
	return ok && t.Code == e.Code
}

func frameErr(t FrameType, reason string) error {
	return &TransportError{Code: FrameEncodingError, FrameType: t, Reason: reason}
}
