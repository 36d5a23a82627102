package spoke

import "time"

// State is the target's connection state.
type State string

// Target states.
const (
	StateConnecting   State = "connecting"
	StateConnected    State = "connected"
	StateReconnecting State = "reconnecting"
	StateClosed       State = "closed"
)

// EventKind names a status event.
type EventKind string

// Status event kinds.
const (
	// EventConnecting: a dial attempt starts (Attempt counts from 1 per
	// outage).
	EventConnecting EventKind = "connecting"
	// EventConnected: the first connection is up (Path, RTT).
	EventConnected EventKind = "connected"
	// EventDisconnected: the connection or stream died (Err says why; a
	// *CloseError carries the hub's code and reason).
	EventDisconnected EventKind = "disconnected"
	// EventReconnected: a new connection is up; Resent frames were sent
	// again because they had not been acknowledged.
	EventReconnected EventKind = "reconnected"
	// EventPathChanged: the connection moved to another kind of path
	// (Path, RTT), e.g. from the relay to a direct path after hole
	// punching. Only Conns that implement PathNotifier report it.
	EventPathChanged EventKind = "path_changed"
	// EventDialFailed: one dial attempt failed (Err); another follows.
	EventDialFailed EventKind = "dial_failed"
	// EventMalformed: the hub sent a frame we could not parse (Err); the
	// target carries on.
	EventMalformed EventKind = "malformed"
	// EventListenerPanic: a listener panicked (Err is a *PanicError).
	EventListenerPanic EventKind = "listener_panic"
	// EventFailed: events were given up (Failed, Err); see WithOnFailed.
	EventFailed EventKind = "failed"
	// EventClosed: the target is closed.
	EventClosed EventKind = "closed"
)

// StatusEvent reports a change of the target's connection.
type StatusEvent struct {
	Kind       EventKind
	Time       time.Time
	Attempt    int
	Path       PathKind
	RTT        time.Duration
	Reconnects int
	Resent     int
	Failed     int
	Err        error
}

// Status is a snapshot of the target.
type Status struct {
	State      State
	Path       PathKind
	RTT        time.Duration
	Reconnects int
	LastError  error
	Queued     int // events not yet acknowledged
	QueuedSize int // their bytes
	Stats      Stats
}

// Stats are counters over the target's life.
type Stats struct {
	Dispatched uint64 // events accepted by Dispatch
	Delivered  uint64 // acknowledged by the hub (QUIC ack or echo)
	Resent     uint64 // frames sent again after a connection died
	Failed     uint64 // events reported failed
	Received   uint64 // frames received from the hub
	Malformed  uint64 // received frames that did not parse
}
