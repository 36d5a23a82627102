package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// handleFrame feeds one frame to c as if it arrived in pk.
func (c *Conn) handleFrame(now time.Time, pk *rxPacket, f *wire.Frame) error {
	return receiver{c: c, now: now}.frame(pk, f)
}
