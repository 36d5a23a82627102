package core

import (
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// TestMultipathAckOnlyNotAcknowledged: a packet carrying only PATH_ACKs
// is not ack-eliciting (draft-ietf-quic-multipath: PATH_ACK is an ACK),
// so on a quiet connection only the keep-alive PINGs draw PATH_ACKs.
// Counting PATH_ACK as eliciting made the two ends acknowledge each
// other's acknowledgements without end (3094 datagrams in these 5 s).
func TestMultipathAckOnlyNotAcknowledged(t *testing.T) {
	l := newMPLink(t, 110, true, true)
	openSecondPath(t, l)
	transfer(t, l, 64<<10, 10*time.Second)
	l.settle(time.Second)
	pings, acks := l.frames[wire.FramePing], l.frames[wire.FramePathAck]
	l.settle(5 * time.Second)
	pings, acks = l.frames[wire.FramePing]-pings, l.frames[wire.FramePathAck]-acks
	// An ACK answering a packet after a quiet spell goes out twice.
	if acks > 2*pings {
		t.Fatalf("%d PATH_ACKs for %d PINGs in 5 s of a quiet connection", acks, pings)
	}
}
