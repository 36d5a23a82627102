package spoke

import (
	"errors"
	"fmt"
)

// Errors reported by Dial, Dispatch, Flush and the failure callback.
var (
	// ErrClosed: the target was closed; queued events that were not
	// acknowledged are reported failed with it.
	ErrClosed = errors.New("spoke: target closed")
	// ErrQueueFull: Dispatch found no room in the send queue before its
	// context ended. The event was not queued.
	ErrQueueFull = errors.New("spoke: send queue full")
	// ErrDeadline: the event was not acknowledged within the send timeout
	// and will not be sent again.
	ErrDeadline = errors.New("spoke: event not acknowledged before its deadline")
	// ErrDisconnected: the connection was lost with reconnection disabled;
	// unacknowledged events are reported failed with it.
	ErrDisconnected = errors.New("spoke: disconnected from hub")
	// ErrStreamEnded: the hub finished its side of the stream.
	ErrStreamEnded = errors.New("spoke: hub ended the stream")
	// ErrNoDialer: Dial was given a nil Dialer.
	ErrNoDialer = errors.New("spoke: no dialer")
)

// CloseError is a connection closed by an application with a code and a
// reason, for example the hub's {0, "hub shutting down"}.
type CloseError struct {
	Remote bool // the hub closed it
	Code   uint64
	Reason string
	Err    error // the transport's own error
}

func (e *CloseError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by hub"
	}
	if e.Reason == "" {
		return fmt.Sprintf("spoke: connection closed %s with code %d", who, e.Code)
	}
	return fmt.Sprintf("spoke: connection closed %s with code %d: %s", who, e.Code, e.Reason)
}

func (e *CloseError) Unwrap() error { return e.Err }

// PanicError is a listener panic, contained and reported as a status event.
type PanicError struct {
	Type  string // the listener's event type ("*" for wildcard)
	Value any
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("spoke: listener for %q panicked: %v", e.Type, e.Value)
}

// Close codes the spoke sends.
const (
	CloseOK       = 0 // orderly close
	CloseProtocol = 2 // the hub sent a frame stream we cannot follow
)
