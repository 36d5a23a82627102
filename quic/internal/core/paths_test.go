package core

import (
	"bytes"
	"testing"
	"time"
)

// TestFallbackSkipsAmplificationBlocked: with no validated path left, the
// connection frames (a PATH_ABANDON we owe) go on a path that can send
// now: an abandoned validated path rather than an open one stuck at its
// amplification limit (seed a2491699: a server closed its only validated
// path while a NAT-traversal path never validated; its PATH_ABANDON never
// left and the client's keep-alives on the closed path kept both alive).
func TestFallbackSkipsAmplificationBlocked(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	mk := func(id uint64, abandoned, validated bool) *path {
		p := newAppPath(id, Addr{}, Server, 100*time.Millisecond, now)
		p.remote = &remoteCIDs{ids: []remoteCID{{seq: 0, id: []byte{byte(id), 1, 2, 3, 4, 5, 6, 7}}}}
		p.mp.abandoned, p.validated = abandoned, validated
		return p
	}
	closed := mk(0, true, true)
	blocked := mk(1, false, false) // nothing received on it: no budget
	if got := (pathList{closed, blocked}).fallback(); got != closed {
		t.Fatalf("fallback picked path %d, want the abandoned validated path 0", got.id)
	}
	blocked.bytesRecv = 1000 // the peer sent on it: it may answer
	if got := (pathList{closed, blocked}).fallback(); got != blocked {
		t.Fatalf("fallback picked path %d, want the open path 1", got.id)
	}
	if got := (pathList{mk(2, false, false)}).fallback(); got == nil {
		t.Fatal("a blocked open path alone is still the fallback")
	}
}

// TestLastPathKeepsValidating: a path whose challenge went unanswered
// through its validation window is abandoned while another path lives,
// but as the last live path it challenges again: cleared, it could never
// validate and carry data once the network came back (fuzz seed
// e0330a42fdd7cd63: the client closed its only validated path during an
// outage; its new path stayed unvalidated for good).
func TestLastPathKeepsValidating(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	mk := func(id uint64) *path {
		p := newAppPath(id, Addr{}, Client, 100*time.Millisecond, now)
		p.mp.startChallenge(bytes.NewReader(make([]byte, 8)), now, p.rec.ProbeTimeout())
		p.mp.challengeOut = false // sent
		return p
	}
	closed := mk(0)
	closed.mp.abandoned = true
	last := mk(1)
	expired := last.mp.validateBy
	if v := last.multipathTimeout(expired, pathList{closed, last}, 0, 0); v != verdictKeep {
		t.Fatalf("last live path: verdict %d, want keep", v)
	}
	if !last.mp.challengeOut || !last.mp.validateBy.After(expired) {
		t.Fatalf("last live path: challenge out %v, validate by %v (expired %v)", last.mp.challengeOut, last.mp.validateBy, expired)
	}
	other := mk(2)
	if v := other.multipathTimeout(other.mp.validateBy, pathList{closed, last, other}, 0, 0); v != verdictAbandon {
		t.Fatalf("with another live path: verdict %d, want abandon", v)
	}
}
