package core

import (
	"testing"
	"time"
)

// TestNoStallAfterLossyHandshake: at 10 % loss, seed 239 once lost the
// client's Finished while its first 1-RTT data filled the window: no PTO
// was armed (1-RTT is not probed before confirmation), the Finished never
// went out again and both sides idled out. Every seed here must finish a
// 100 KB transfer once the handshake completed.
func TestNoStallAfterLossyHandshake(t *testing.T) {
	for seed := uint64(230); seed < 250; seed++ {
		l := newLink(t, seed)
		l.loss = 0.1
		l.delay = 25 * time.Millisecond
		l.runUntil(l.client.HandshakeComplete, time.Minute)
		transfer(t, l, 100<<10, time.Minute)
	}
}
