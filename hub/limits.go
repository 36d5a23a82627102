package hub

import "github.com/alkdev/irohspoke/quic"

// Transport limits for a hub's endpoint. A spoke opens exactly one
// bidirectional stream, so anything more it opens is data the hub never
// reads: without limits every connection could park its whole auto-tuned
// flow-control window (24 MiB) in streams nobody accepts.
const (
	// MaxSpokeStreams is how many bidirectional streams a spoke may have
	// open at once (its stream, and one spare); it may open no
	// unidirectional stream.
	MaxSpokeStreams = 2
	// MaxSpokeReceiveWindow caps what one spoke connection may have in
	// flight to the hub or buffered unread; frames larger than it still
	// pass, as the hub reads them.
	MaxSpokeReceiveWindow = 4 << 20
	// DefaultMaxSpokes bounds the spoke connections (handshaking or
	// connected) a hub endpoint holds, so that with MaxSpokeReceiveWindow
	// what spokes can make it buffer has a total: 1024 × 4 MiB.
	DefaultMaxSpokes = 1024
)

// QUICConfig returns a copy of base (nil: the zero Config) with the hub's
// stream limits, receive window cap and connection limit filled in where
// base leaves them zero. Use it for the endpoint a Hub serves.
func QUICConfig(base *quic.Config) *quic.Config {
	var c quic.Config
	if base != nil {
		c = *base
	}
	if c.MaxIncomingStreams == 0 {
		c.MaxIncomingStreams = MaxSpokeStreams
	}
	if c.MaxIncomingUniStreams == 0 {
		c.MaxIncomingUniStreams = -1
	}
	if c.MaxReceiveWindow == 0 {
		c.MaxReceiveWindow = MaxSpokeReceiveWindow
	}
	if c.MaxIncomingConnections == 0 {
		c.MaxIncomingConnections = DefaultMaxSpokes
	}
	return &c
}
