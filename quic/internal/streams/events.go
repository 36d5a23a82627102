package streams

// EventKind names what changed on a stream, for the API layer.
type EventKind uint8

const (
	// EventOpened: the peer opened a stream; AcceptStream returns it.
	EventOpened EventKind = iota + 1
	// EventReadable: Read has new data, the end of the stream, or a reset.
	EventReadable
	// EventWritable: a Write that came up short can continue.
	EventWritable
	// EventFinished: everything written, FIN included, was acknowledged.
	EventFinished
	// EventStopped: the peer sent STOP_SENDING (Code); the stream was reset.
	EventStopped
	// EventReset: the peer reset the receiving half (Code); Read reports it.
	EventReset
	// EventStreamsAvailable: the peer raised its limit for Dir, so
	// OpenStream may succeed again.
	EventStreamsAvailable
)

var eventKindNames = [...]string{
	EventOpened:           "opened",
	EventReadable:         "readable",
	EventWritable:         "writable",
	EventFinished:         "finished",
	EventStopped:          "stopped",
	EventReset:            "reset",
	EventStreamsAvailable: "streams-available",
}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && eventKindNames[k] != "" {
		return eventKindNames[k]
	}
	return "unknown"
}

// Event is one notification from PollEvent.
type Event struct {
	Kind EventKind
	ID   StreamID
	Dir  Dir    // EventStreamsAvailable
	Code uint64 // EventStopped, EventReset
}
