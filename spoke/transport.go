package spoke

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// ALPN is the application protocol of alkpubsub hubs.
const ALPN = "alkpubsub/1"

// HubAddr says which hub to dial: its EndpointId plus whatever is known
// about how to reach it (direct UDP addresses and/or a relay URL).
type HubAddr struct {
	ID       identity.EndpointID
	Addrs    []netip.AddrPort
	RelayURL string
}

// HubFromTicket returns the HubAddr a ticket describes (its first relay).
func HubFromTicket(t identity.Ticket) HubAddr {
	h := HubAddr{ID: t.ID, Addrs: t.Addrs}
	if len(t.Relays) > 0 {
		h.RelayURL = t.Relays[0]
	}
	return h
}

// PathKind says how a connection's datagrams travel.
type PathKind string

// Path kinds reported in status events.
const (
	PathDirect PathKind = "direct"
	PathRelay  PathKind = "relay"
)

// Dialer makes connections to hubs. A plain QUIC endpoint with direct UDP
// addresses (see QUICDialer) implements it; a relay-capable endpoint can
// implement it too, and tests use an in-memory fake.
type Dialer interface {
	DialHub(ctx context.Context, hub HubAddr, alpn string) (Conn, error)
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
