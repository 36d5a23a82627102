package core

import (
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// retireOldest makes the server handle a RETIRE_CONNECTION_ID, as the
// client would send it, for the oldest server CID the client holds and
// does not use; the client forgets that CID. It reports false when the
// client holds no other.
func retireOldest(t *testing.T, l *link, now time.Time) bool {
	t.Helper()
	s, remote := l.server, l.client.paths[0].remote
	if len(remote.ids) < 2 {
		return false
	}
	id := remote.ids[1]
	remote.ids = append(remote.ids[:1], remote.ids[2:]...)
	f := wire.Frame{Type: wire.FrameRetireConnectionID, Sequence: id.seq}
	if err := s.handleFrame(now, appPacket(s.paths[0], remote.ids[0].id, 0), &f); err != nil {
		t.Fatal(err)
	}
	return true
}

// TestRetireFloodBounded is the review's probe in the core: a client that
// retires every CID the server gives it, as fast as it can, got a fresh
// one for each (1.6 M on one connection). The server now replaces retired
// CIDs at a bounded rate, and tops the client up once it calms down.
func TestRetireFloodBounded(t *testing.T) {
	l := newLink(t, 40)
	l.runUntil(l.established, 5*time.Second)
	l.settle(time.Second)
	s := l.server
	start := s.paths[0].local.nextSeq
	retired := 0
	for i := range 100_000 { // over one second
		if i%1000 == 0 {
			l.settle(10 * time.Millisecond) // deliver what the server issued
		}
		if retireOldest(t, l, l.now) {
			retired++
		}
	}
	issued := s.paths[0].local.nextSeq - start
	t.Logf("%d retirements in 1 s: %d CIDs issued", retired, issued)
	if limit := uint64(cidReissueBurst+time.Second/cidReissueEvery+1) * DefaultActiveCIDLimit; issued > limit {
		t.Fatalf("%d CIDs issued, want at most %d", issued, limit)
	}
	// Left alone, the server tops the client up again.
	l.settle(2 * cidReissueEvery)
	if n := len(l.client.paths[0].remote.ids); n != DefaultActiveCIDLimit {
		t.Fatalf("client holds %d CIDs after the flood, want %d", n, DefaultActiveCIDLimit)
	}
	if s.Err() != nil || l.client.Err() != nil {
		t.Fatalf("errors: %v / %v", s.Err(), l.client.Err())
	}
}

// TestRetireQueueBounded: a peer that keeps retiring its own CIDs with
// retire_prior_to and never acknowledges our RETIRE_CONNECTION_IDs (the
// pattern of quic-go's CVE-2024-22189) fills no unbounded queue: past
// maxRetiresUnacked the connection closes with CONNECTION_ID_LIMIT_ERROR.
// Repeats of one old NEW_CONNECTION_ID owe a single retirement.
func TestRetireQueueBounded(t *testing.T) {
	l := newLink(t, 41)
	l.runUntil(l.established, 5*time.Second)
	l.settle(time.Second)
	c := l.client
	next := c.paths[0].remote.ids[len(c.paths[0].remote.ids)-1].seq + 1
	newCID := func(seq, prior uint64) error {
		f := wire.Frame{Type: wire.FrameNewConnectionID, Sequence: seq, RetirePriorTo: prior, ConnID: []byte{byte(seq), byte(seq >> 8), byte(seq >> 16), 1, 2, 3, 4, 5}}
		f.ResetToken[0], f.ResetToken[1], f.ResetToken[2] = byte(seq), byte(seq>>8), byte(seq>>16)
		return c.handleFrame(l.now, appPacket(c.paths[0], nil, 0), &f)
	}
	if err := newCID(next, next); err != nil {
		t.Fatal(err)
	}
	queued := len(c.cids.retireOut)
	for range 1000 {
		if err := newCID(next-1, 0); err != nil { // retired already
			t.Fatal(err)
		}
	}
	if len(c.cids.retireOut) != queued {
		t.Fatalf("repeats of a retired CID queued %d retirements, want %d", len(c.cids.retireOut), queued)
	}
	var err error
	n := 0
	for seq := next + 1; err == nil && n < 100_000; seq++ {
		err = newCID(seq, seq)
		n++
	}
	t.Logf("closed after %d NEW_CONNECTION_IDs, %d retirements owed: %v", n, len(c.cids.retireOut), err)
	var te *wire.TransportError
	if !errors.As(err, &te) || te.Code != wire.ConnectionIDLimitError {
		t.Fatalf("err %v after %d frames (%d retirements owed)", err, n, len(c.cids.retireOut))
	}
	if len(c.cids.retireOut) > maxRetiresUnacked {
		t.Fatalf("%d retirements owed", len(c.cids.retireOut))
	}
}
