package streams

import (
	"errors"
	"fmt"
)

// TransportErrorCode is an RFC 9000 §20.1 transport error code. The
// connection core turns an *Error into a CONNECTION_CLOSE with this code.
type TransportErrorCode uint64

const (
	InternalError      TransportErrorCode = 0x1
	FlowControlError   TransportErrorCode = 0x3
	StreamLimitError   TransportErrorCode = 0x4
	StreamStateError   TransportErrorCode = 0x5
	FinalSizeError     TransportErrorCode = 0x6
	FrameEncodingError TransportErrorCode = 0x7
	ProtocolViolation  TransportErrorCode = 0xa
)

func (c TransportErrorCode) String() string {
	switch c {
	case InternalError:
		return "INTERNAL_ERROR"
	case FlowControlError:
		return "FLOW_CONTROL_ERROR"
	case StreamLimitError:
		return "STREAM_LIMIT_ERROR"
	case StreamStateError:
		return "STREAM_STATE_ERROR"
	case FinalSizeError:
		return "FINAL_SIZE_ERROR"
	case FrameEncodingError:
		return "FRAME_ENCODING_ERROR"
	case ProtocolViolation:
		return "PROTOCOL_VIOLATION"
	}
	return fmt.Sprintf("transport error 0x%x", uint64(c))
}

// Error is a connection-level protocol error caused by the peer. Every
// error returned by the Manager's Handle* methods is an *Error.
type Error struct {
	Code   TransportErrorCode
	Reason string
}

func (e *Error) Error() string { return e.Code.String() + ": " + e.Reason }

func protoErr(code TransportErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// ResetError is returned by Read after the peer reset the stream with
// RESET_STREAM; Code is the peer's application error code.
type ResetError struct {
	ID   StreamID
	Code uint64
}

func (e *ResetError) Error() string {
	return fmt.Sprintf("stream %d reset by peer with code %d", uint64(e.ID), e.Code)
}

// StoppedError is returned by Write after the peer asked us to stop sending
// with STOP_SENDING; Code is the peer's application error code.
type StoppedError struct {
	ID   StreamID
	Code uint64
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("stream %d stopped by peer with code %d", uint64(e.ID), e.Code)
}

var (
	// ErrUnknownStream: the stream does not exist (never opened or already
	// forgotten) or has no half in the requested direction.
	ErrUnknownStream = errors.New("streams: unknown stream")
	// ErrStreamLimit: the peer's MAX_STREAMS does not allow another stream
	// yet; a STREAMS_BLOCKED frame has been queued.
	ErrStreamLimit = errors.New("streams: peer stream limit reached")
	// ErrWriteClosed: Write after CloseWrite or CancelWrite.
	ErrWriteClosed = errors.New("streams: write on closed stream")
	// ErrReadCanceled: Read after CancelRead.
	ErrReadCanceled = errors.New("streams: read on canceled stream")
	// ErrWouldBlock: Read found no data (wait for EventReadable) or Write
	// found the send buffer full (wait for EventWritable).
	ErrWouldBlock = errors.New("streams: operation would block")
	// ErrFinalSizeTooLarge: a write would push the stream past 2^62-1 bytes.
	ErrFinalSizeTooLarge = errors.New("streams: stream too long")
)
