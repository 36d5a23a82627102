package handshake

import (
	"crypto/ecdh"
	"io"
)

func curveFor(g CurveID) ecdh.Curve {
	switch g {
	case X25519:
		return ecdh.X25519()
	case CurveP256:
		return ecdh.P256()
	}
	return nil
}

// generateKeyShare draws the private scalar from r itself, so that an
// injected deterministic reader gives reproducible handshakes (recent Go
// ignores the reader passed to ecdh GenerateKey).
func generateKeyShare(g CurveID, r io.Reader) (*ecdh.PrivateKey, error) {
	curve := curveFor(g)
	if curve == nil {
		return nil, alertf(AlertInternalError, "unsupported group %#04x", uint16(g))
	}
	var seed [32]byte
	for range 64 {
		if _, err := io.ReadFull(r, seed[:]); err != nil {
			return nil, alertf(AlertInternalError, "reading randomness: %v", err)
		}
		// P-256 rejects scalars >= n (and zero); retrying is vanishingly rare.
		if k, err := curve.NewPrivateKey(seed[:]); err == nil {
			return k, nil
		}
	}
	return nil, alertf(AlertInternalError, "could not generate a %#04x key", uint16(g))
}

// sharedSecret runs ECDH with the peer's key_share bytes; invalid points
// are the peer's fault (illegal_parameter).
func sharedSecret(priv *ecdh.PrivateKey, peer []byte) ([]byte, error) {
	pub, err := priv.Curve().NewPublicKey(peer)
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "invalid key share: %v", err)
	}
	secret, err := priv.ECDH(pub)
	if err != nil {
		return nil, alertf(AlertIllegalParameter, "key exchange failed: %v", err)
	}
	return secret, nil
}

func readRandom(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, alertf(AlertInternalError, "reading randomness: %v", err)
	}
	return b, nil
}
