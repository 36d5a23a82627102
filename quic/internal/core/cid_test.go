package core

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestLocalCIDsIssueAndRetire(t *testing.T) {
	var key ResetKey
	l := newLocalCIDs(rand.Reader, &key, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	ids, err := l.issue(4)
	if err != nil || len(ids) != 3 {
		t.Fatalf("issue: %d ids, %v", len(ids), err)
	}
	if len(l.pending) != 3 {
		t.Fatalf("pending %v", l.pending)
	}
	// Retiring the CID the packet arrived on is a protocol violation.
	if _, _, err := l.retire(0, []byte{1, 2, 3, 4, 5, 6, 7, 8}); err == nil {
		t.Fatal("retire of the CID in use accepted")
	}
	got, ok, err := l.retire(1, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil || !ok || got != ids[0] {
		t.Fatalf("retire 1: %x %v %v", got, ok, err)
	}
	if _, ok, _ := l.retire(1, nil); ok {
		t.Fatal("double retire reported again")
	}
	if _, _, err := l.retire(99, nil); !errors.Is(err, errCIDRetireUnknown) {
		t.Fatalf("retire unknown: %v", err)
	}
	if len(l.pending) != 2 {
		t.Fatalf("pending after retire %v", l.pending)
	}
	// Tokens are a function of the CID, so an endpoint can recompute them.
	c, _ := l.lookup(2)
	if c.token != key.Token(c.id[:]) {
		t.Fatal("token not derived from the CID")
	}
}

func TestRemoteCIDs(t *testing.T) {
	r := newRemoteCIDs(3, []byte{0xaa})
	tok := func(b byte) ResetToken { var t ResetToken; t[0] = b; return t }
	if err := r.add(1, 0, []byte{1}, tok(1)); err != nil {
		t.Fatal(err)
	}
	if err := r.add(1, 0, []byte{1}, tok(1)); err != nil {
		t.Fatalf("duplicate frame rejected: %v", err)
	}
	if err := r.add(1, 0, []byte{9}, tok(1)); err == nil {
		t.Fatal("conflicting duplicate accepted")
	}
	if err := r.add(3, 0, []byte{3}, tok(3)); err != nil {
		t.Fatal(err)
	}
	if err := r.add(2, 0, []byte{2}, tok(2)); !errors.Is(err, errCIDLimit) {
		t.Fatalf("limit not enforced: %v", err)
	}
	r = newRemoteCIDs(3, []byte{0xaa})
	r.add(1, 0, []byte{1}, tok(1))
	if err := r.add(2, 2, []byte{2}, tok(2)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.active(), []byte{2}) {
		t.Fatalf("active after retire_prior_to = %x", r.active())
	}
	if len(r.toRetire) != 2 {
		t.Fatalf("toRetire %v", r.toRetire)
	}
	t2, t1 := tok(2), tok(1)
	dg := append(make([]byte, 30), t2[:]...)
	if !r.isStatelessReset(dg) {
		t.Fatal("stateless reset not detected")
	}
	if r.isStatelessReset(append(make([]byte, 30), t1[:]...)) {
		t.Fatal("retired token still matches")
	}
	if _, ok := r.rotate(); ok {
		t.Fatal("rotate without spare CID")
	}
}

// TestResetTokenIsHMAC: Token is HMAC-SHA256(key, cid) cut to 16 bytes
// for every CID length, the short stack path and the long fallback alike.
func TestResetTokenIsHMAC(t *testing.T) {
	var key ResetKey
	for i := range key {
		key[i] = byte(7*i + 3)
	}
	for n := 0; n <= 40; n++ {
		cid := make([]byte, n)
		for i := range cid {
			cid[i] = byte(n*31 + i)
		}
		m := hmac.New(sha256.New, key[:])
		m.Write(cid)
		if got, want := key.Token(cid), ResetToken(m.Sum(nil)[:16]); got != want {
			t.Fatalf("cid of %d bytes: token %x, HMAC %x", n, got, want)
		}
	}
}
