package core

import "github.com/alkdev/irohspoke/quic/internal/streams"

// AnnounceStream sends an empty STREAM frame for a locally opened stream
// that has no data yet, so the peer can accept it (see
// streams.Manager.Announce).
func (c *Conn) AnnounceStream(id streams.StreamID) error {
	if c.state >= stateClosing {
		return ErrConnClosed
	}
	return c.streams.Announce(id)
}
