package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// A dialing process makes a handful of Ed25519 operations: its key, the
// relay login, the TLS signature and verification, a pkarr record.
// crypto/ed25519 first builds tables of base point multiples, about 1.5 ms
// of CPU before the first key or signature and 0.5 ms before the first
// verification, which saves about 0.1 ms per later operation. The first
// coldOps operations therefore multiply the base point like any other
// point (about 0.15 ms each, no tables); only a process that goes on
// signing (a hub, after about 16 connections) builds the tables, in the
// background, and uses crypto/ed25519 once built. With coldOps 3 the
// build began as a spoke's handshake completed and held one of a 2-core
// machine's CPUs just when the connection's first packets were due
// (stalls of 4-14 ms in the NAT lab).
const coldOps = 32

var (
	opsDone  atomic.Int32
	warm     atomic.Bool
	warmOnce sync.Once
)

// useStd reports whether crypto/ed25519 is warm, counting one operation
// and starting the warm-up once coldOps were done the cold way.
func useStd() bool {
	if warm.Load() {
		return true
	}
	if opsDone.Add(1) > coldOps {
		warmOnce.Do(func() { go warmUp() })
	}
	return false
}

func warmUp() {
	k := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	ed25519.Verify(k.Public().(ed25519.PublicKey), nil, ed25519.Sign(k, nil))
	warm.Store(true)
}

// expandSeed is RFC 8032's secret scalar and nonce prefix of a seed.
func expandSeed(seed *[32]byte) (*edwards25519.Scalar, []byte) {
	h := sha512.Sum512(seed[:])
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		panic("identity: clamping a 32-byte scalar failed")
	}
	return s, h[32:]
}

// baseMult is s·B by the constant-time variable-base multiplication.
func baseMult(s *edwards25519.Scalar) *edwards25519.Point {
	return new(edwards25519.Point).ScalarMult(s, edwards25519.NewGeneratorPoint())
}

// reduced is the SHA-512 of parts, reduced mod L.
func reduced(parts ...[]byte) *edwards25519.Scalar {
	h := sha512.New()
	for _, p := range parts {
		h.Write(p)
	}
	s, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		panic("identity: reducing a 64-byte hash failed")
	}
	return s
}

// privateKeyCold is ed25519.NewKeyFromSeed without the tables.
func privateKeyCold(seed *[32]byte) ed25519.PrivateKey {
	s, _ := expandSeed(seed)
	return append(append(ed25519.PrivateKey(nil), seed[:]...), baseMult(s).Bytes()...)
}

// Sign is ed25519.Sign, fast also in a fresh process: the signer of every
// Ed25519 signature irohspoke makes (TLS CertificateVerify, relay
// authentication, pkarr records).
func Sign(priv ed25519.PrivateKey, msg []byte) []byte {
	if useStd() {
		return ed25519.Sign(priv, msg)
	}
	return signCold(priv, msg)
}

// signCold is ed25519.Sign without the tables (RFC 8032 §5.1.6; the same
// deterministic signature).
func signCold(priv ed25519.PrivateKey, msg []byte) []byte {
	s, prefix := expandSeed((*[32]byte)(priv[:32]))
	r := reduced(prefix, msg)
	R := baseMult(r).Bytes()
	k := reduced(R, priv[32:], msg)
	S := edwards25519.NewScalar().MultiplyAdd(k, s, r)
	return append(R, S.Bytes()...)
}

// verifyCold is ed25519.Verify without the tables: S canonical, A
// decodable, and [S]B - [k]A encoding exactly as R.
func verifyCold(pub, msg, sig []byte) bool {
	A, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return false
	}
	S, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	k := reduced(sig[:32], pub, msg)
	minusA := new(edwards25519.Point).Negate(A)
	R := new(edwards25519.Point).VarTimeMultiScalarMult(
		[]*edwards25519.Scalar{k, S}, []*edwards25519.Point{minusA, edwards25519.NewGeneratorPoint()})
	return bytes.Equal(R.Bytes(), sig[:32])
}
