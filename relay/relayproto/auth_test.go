package relayproto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"filippo.io/edwards25519"
)

func TestVerifyClientAuth(t *testing.T) {
	priv, pub := k1(t)
	challenge := [ChallengeLen]byte(seq(16))
	auth, err := SignChallenge(signer(priv), pub, challenge)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyClientAuth(auth, challenge); err != nil {
		t.Fatalf("valid auth rejected: %v", err)
	}

	other := challenge
	other[0] ^= 1
	if err := VerifyClientAuth(auth, other); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("other challenge: %v", err)
	}
	flipped := *auth
	flipped.Signature[10] ^= 0x40
	if err := VerifyClientAuth(&flipped, challenge); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("flipped signature: %v", err)
	}
	wrongKey := *auth
	wrongKey.PublicKey = [EndpointIDLen]byte{1}
	if err := VerifyClientAuth(&wrongKey, challenge); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("wrong key: %v", err)
	}
	badKey := *auth
	badKey.PublicKey = invalidID
	if err := VerifyClientAuth(&badKey, challenge); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("invalid key: %v", err)
	}
	// Signing the raw challenge instead of the derived message must fail.
	raw := &ClientAuth{PublicKey: pub, Signature: [SignatureLen]byte(ed25519.Sign(priv, challenge[:]))}
	if err := VerifyClientAuth(raw, challenge); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("raw challenge signature: %v", err)
	}

	short := func([]byte) []byte { return make([]byte, 63) }
	if _, err := SignChallenge(short, pub, challenge); !errors.Is(err, ErrBadSignatureLength) {
		t.Errorf("short signer: %v", err)
	}
}

// TestVerifyStrictSmallOrder builds signatures that crypto/ed25519 accepts
// but ed25519-dalek's verify_strict (used by iroh) rejects.
func TestVerifyStrictSmallOrder(t *testing.T) {
	challenge := [ChallengeLen]byte{7}
	msg := ChallengeMessage(challenge)

	// Small-order public key (the identity): [s]B == R holds for any message.
	s := scalarFrom(t, bytes.Repeat([]byte{3}, 64))
	R := new(edwards25519.Point).ScalarBaseMult(s)
	identity := [EndpointIDLen]byte{1}
	sig := [SignatureLen]byte(cat(R.Bytes(), s.Bytes()))
	if !ed25519.Verify(identity[:], msg[:], sig[:]) {
		t.Fatal("setup: crypto/ed25519 should accept the small-order key forgery")
	}
	if err := VerifyClientAuth(&ClientAuth{PublicKey: identity, Signature: sig}, challenge); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("small-order key accepted: %v", err)
	}

	// Small-order R (the identity) with s = k·a for a real key.
	priv, pub := k1(t)
	h := sha512.Sum512(priv.Seed())
	a, err := new(edwards25519.Scalar).SetBytesWithClamping(h[:32])
	if err != nil {
		t.Fatal(err)
	}
	rBytes := identity[:]
	k := scalarFrom(t, sha512Sum(rBytes, pub[:], msg[:]))
	s2 := new(edwards25519.Scalar).Multiply(k, a)
	sig2 := [SignatureLen]byte(cat(rBytes, s2.Bytes()))
	if !ed25519.Verify(pub[:], msg[:], sig2[:]) {
		t.Fatal("setup: crypto/ed25519 should accept the small-order R signature")
	}
	if err := VerifyClientAuth(&ClientAuth{PublicKey: pub, Signature: sig2}, challenge); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("small-order R accepted: %v", err)
	}
}

func scalarFrom(t *testing.T, wide []byte) *edwards25519.Scalar {
	t.Helper()
	s, err := new(edwards25519.Scalar).SetUniformBytes(wide)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sha512Sum(parts ...[]byte) []byte {
	h := sha512.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func TestKeyMaterialHeaderRejects(t *testing.T) {
	priv, pub := k1(t)
	ekm := seq(KeyingMaterialLen)
	good := vectorText(t, "keying_material_header_00_1f")
	body := vectorBytesFromHeader(t, good)

	cases := []struct {
		name  string
		value string
		want  error
	}{
		{"empty", "", ErrTruncated},
		{"padding", good + "=", ErrBadHeaderEncoding},
		{"std alphabet", strings.ReplaceAll(good, "-", "+"), ErrBadHeaderEncoding},
		{"newline", good[:10] + "\n" + good[10:], ErrBadHeaderEncoding},
		{"carriage return", good[:10] + "\r" + good[10:], ErrBadHeaderEncoding},
		{"space", good[:10] + " " + good[10:], ErrBadHeaderEncoding},
		{"impossible length", good + "AA", ErrBadHeaderEncoding},
		{"non-zero trailing bits", good[:150] + "9", ErrBadHeaderEncoding},
		{"missing suffix byte", encodeHeader(body[:112]), ErrTruncated},
		{"missing signature bytes", encodeHeader(body[:60]), ErrTruncated},
		{"signature length 65", encodeHeader(cat(body[:32], []byte{65}, body[33:], []byte{0})), ErrBadSignatureLength},
		{"invalid key", encodeHeader(cat(invalidID[:], body[32:])), ErrInvalidEndpointID},
	}
	for _, c := range cases {
		a, err := ParseKeyMaterialHeader(c.value)
		if !errors.Is(err, c.want) || a != nil {
			t.Errorf("%s: ParseKeyMaterialHeader = %v, %v; want %v", c.name, a, err, c.want)
		}
	}

	// Trailing bytes after the body are ignored, like postcard.
	if a, err := ParseKeyMaterialHeader(encodeHeader(cat(body, []byte{9, 9}))); err != nil || a.Verify(ekm) != nil {
		t.Errorf("trailing bytes: %v", err)
	}

	a, err := NewKeyMaterialAuth(signer(priv), pub, ekm)
	if err != nil {
		t.Fatal(err)
	}
	otherSuffix := bytes.Clone(ekm)
	otherSuffix[31] ^= 1
	if err := a.Verify(otherSuffix); !errors.Is(err, ErrKeyingMaterialMismatch) {
		t.Errorf("other suffix: %v", err)
	}
	otherPrefix := bytes.Clone(ekm)
	otherPrefix[0] ^= 1
	if err := a.Verify(otherPrefix); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("other signed half: %v", err)
	}
	if err := a.Verify(ekm[:31]); !errors.Is(err, ErrBadKeyingMaterial) {
		t.Errorf("short ekm: %v", err)
	}
	if _, err := NewKeyMaterialAuth(signer(priv), pub, ekm[:16]); !errors.Is(err, ErrBadKeyingMaterial) {
		t.Errorf("NewKeyMaterialAuth short ekm: %v", err)
	}
	if _, err := NewKeyMaterialAuth(func([]byte) []byte { return nil }, pub, ekm); !errors.Is(err, ErrBadSignatureLength) {
		t.Errorf("NewKeyMaterialAuth bad signer: %v", err)
	}

	exportErr := errors.New("no exporter")
	failing := func(string, []byte, int) ([]byte, error) { return nil, exportErr }
	if _, err := KeyingMaterialHeader(signer(priv), pub, failing); !errors.Is(err, exportErr) {
		t.Errorf("KeyingMaterialHeader export failure: %v", err)
	}
	if _, err := VerifyKeyingMaterialHeader(good, failing); !errors.Is(err, exportErr) {
		t.Errorf("VerifyKeyingMaterialHeader export failure: %v", err)
	}
	proxy := func(string, []byte, int) ([]byte, error) { return otherSuffix, nil }
	if _, err := VerifyKeyingMaterialHeader(good, proxy); !errors.Is(err, ErrKeyingMaterialMismatch) {
		t.Errorf("VerifyKeyingMaterialHeader proxy: %v", err)
	}
	if _, err := VerifyKeyingMaterialHeader("!", proxy); !errors.Is(err, ErrBadHeaderEncoding) {
		t.Errorf("VerifyKeyingMaterialHeader garbage: %v", err)
	}
}

func vectorBytesFromHeader(t *testing.T, v string) []byte {
	t.Helper()
	b, err := strictRawURL.DecodeString(v)
	if err != nil || len(b) != keyMaterialAuthLen {
		t.Fatalf("header vector: %d bytes, %v", len(b), err)
	}
	return b
}

func encodeHeader(body []byte) string {
	return strictRawURL.EncodeToString(body)
}
