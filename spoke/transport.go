package spoke

import (
	"context"
	"io"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// ALPN is the application protocol of alkpubsub hubs.
const ALPN = "alkpubsub/1"

// PathKind says how a connection's datagrams travel.
type PathKind string

// Path kinds reported in status events.
const (
	PathDirect PathKind = "direct"
	PathRelay  PathKind = "relay"
)

// Dialer makes connections to hubs, for DialVia: QUICDialer dials a plain
// QUIC endpoint's direct UDP paths, and tests use an in-memory fake. An
// iroh-style endpoint goes to Dial as an Endpoint instead.
type Dialer interface {
	DialHub(ctx context.Context, hub identity.EndpointAddr, alpn string) (Conn, error)
}

// Conn is one established connection to a hub.
type Conn interface {
	// OpenStream opens the bidirectional stream the session runs on.
	OpenStream(ctx context.Context) (Stream, error)
	// Close closes the connection with an application code and reason.
	Close(code uint64, reason string) error
	// Done is closed when the connection is gone; Err then says why.
	Done() <-chan struct{}
	Err() error
	// Path reports the current path kind and smoothed round-trip time.
	Path() (PathKind, time.Duration)
}

// PathNotifier is implemented by Conns whose path can change while they
// live (multipath connections): PathChanged is signalled, coalesced, when
// it may have; Path then reports the new one.
type PathNotifier interface {
	PathChanged() <-chan struct{}
}

// Stream is the session's bidirectional stream.
type Stream interface {
	io.Reader
	io.Writer
	// Close finishes the sending half after the data written so far.
	Close() error
	// AckedBytes is how many bytes of the sending half, from its start,
	// the peer's QUIC stack has acknowledged without a gap. It must keep
	// returning the last value after the connection died.
	AckedBytes() int64
}

// AckNotifier is implemented by Streams that signal acknowledgement
// progress (quic.Stream does): the channel AckedChanged returns is closed
// when AckedBytes may have grown or the connection died. Without it the
// spoke polls AckedBytes.
type AckNotifier interface {
	AckedChanged() <-chan struct{}
}
