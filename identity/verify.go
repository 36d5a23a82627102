package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"slices"

	"filippo.io/edwards25519"
)

// VerifyStrict checks an RFC 8032 Ed25519 signature with the rules of
// ed25519-dalek's verify_strict, which iroh uses for every signature it
// checks (TLS CertificateVerify, relay auth, pkarr records). It is the one
// verifier in irohspoke. Beyond crypto/ed25519.Verify (canonical S < L,
// decodable A and R, R compared byte-wise with the recomputed one, exactly
// as dalek compares compressed points), it refuses a small-order public key
// or R. Without that, the identity key with R = identity and S = 0 verifies
// every message. Mixed-order keys are accepted, and so are non-canonical
// encodings of large-order keys, as dalek accepts them. Wrong lengths give
// false, never a panic.
func VerifyStrict(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	if isSmallOrderBytes(pub) || isSmallOrderBytes(sig[:32]) {
		return false
	}
	if useStd() {
		return ed25519.Verify(pub, msg, sig)
	}
	return verifyCold(pub, msg, sig)
}

// Verify is VerifyStrict with the endpoint's key.
func (id EndpointID) Verify(msg, sig []byte) bool {
	return VerifyStrict(id[:], msg, sig)
}

// IsSmallOrder reports whether the key is a point of order dividing 8 (or not
// a point at all). Such keys let forged signatures verify for many messages.
func (id EndpointID) IsSmallOrder() bool {
	return isSmallOrderEncoding(id[:])
}

// isSmallOrderEncoding: an undecodable encoding counts as small order, so
// callers reject both with one test.
func isSmallOrderEncoding(b []byte) bool {
	p, err := new(edwards25519.Point).SetBytes(b)
	if err != nil {
		return true
	}
	p.MultByCofactor(p)
	return p.Equal(edwards25519.NewIdentityPoint()) == 1
}

// smallOrderBytes lists every encoding SetBytes decodes to a point of
// order dividing 8: each such point's encoding and the one with the other
// sign bit (the negated point, or the same one when x = 0), and y = p and
// p+1, the unreduced 0 and 1, which SetBytes also accepts. Fourteen in
// all, derived here rather than written down: a torsion point of order 8
// is [L]Q for a suitable Q, and its multiples are the rest.
var smallOrderBytes = func() [][32]byte {
	minusOne := edwards25519.NewScalar().Negate(scalarOne())
	var t8 *edwards25519.Point
	for i := byte(0); t8 == nil; i++ {
		h := sha512.Sum512([]byte{i})
		q, err := new(edwards25519.Point).SetBytes(h[:32])
		if err != nil {
			continue
		}
		t := new(edwards25519.Point).ScalarMult(minusOne, q) // [L-1]Q
		t.Add(t, q)
		four := new(edwards25519.Point).Add(t, t)
		four.Add(four, four)
		if four.Equal(edwards25519.NewIdentityPoint()) == 0 {
			t8 = t
		}
	}
	var out [][32]byte
	add := func(b [32]byte) {
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	p := edwards25519.NewIdentityPoint()
	for range 8 {
		var b [32]byte
		copy(b[:], p.Bytes())
		add(b)
		b[31] ^= 0x80
		add(b)
		p.Add(p, t8)
	}
	// p = 2^255 - 19 and p+1, with either sign bit.
	for _, low := range []byte{0xed, 0xee} {
		var b [32]byte
		for i := range b {
			b[i] = 0xff
		}
		b[0], b[31] = low, 0x7f
		add(b)
		b[31] = 0xff
		add(b)
	}
	return out
}()

func scalarOne() *edwards25519.Scalar {
	var one [32]byte
	one[0] = 1
	s, _ := edwards25519.NewScalar().SetCanonicalBytes(one[:])
	return s
}

// isSmallOrderBytes is isSmallOrderEncoding without decoding, for
// VerifyStrict, where it saves two point decompressions (a quarter of a
// verification): an encoding that does not decode reports false here,
// but the verification then fails anyway, as it decodes A and compares
// R byte-wise with a valid point's encoding.
func isSmallOrderBytes(b []byte) bool {
	for i := range smallOrderBytes {
		if bytes.Equal(b, smallOrderBytes[i][:]) {
			return true
		}
	}
	return false
}
