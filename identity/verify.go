package identity

import (
	"crypto/ed25519"

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
	if isSmallOrderEncoding(pub) || isSmallOrderEncoding(sig[:32]) {
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
