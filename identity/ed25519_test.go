package identity

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"testing"
)

// The cold path gives crypto/ed25519's keys and signatures bit for bit.
func TestColdKeyAndSignatureMatchStd(t *testing.T) {
	src := rand.NewChaCha8([32]byte{7})
	rng := rand.New(src)
	for i := range 200 {
		var seed [32]byte
		src.Read(seed[:])
		msg := make([]byte, rng.IntN(300))
		src.Read(msg)
		std := ed25519.NewKeyFromSeed(seed[:])
		cold := privateKeyCold(&seed)
		if !bytes.Equal(cold, std) {
			t.Fatalf("key %d: cold %x, std %x", i, cold, std)
		}
		sig := signCold(cold, msg)
		if want := ed25519.Sign(std, msg); !bytes.Equal(sig, want) {
			t.Fatalf("signature %d: cold %x, std %x", i, sig, want)
		}
		if !verifyCold(std[32:], msg, sig) {
			t.Fatalf("signature %d does not verify cold", i)
		}
		bad := bytes.Clone(sig)
		bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
		if verifyCold(std[32:], msg, bad) != ed25519.Verify(ed25519.PublicKey(std[32:]), msg, bad) {
			t.Fatalf("signature %d with a flipped bit: cold and std disagree", i)
		}
	}
}

// On the strictness vectors (non-canonical S and keys, small orders, wrong
// R) the cold verifier agrees with crypto/ed25519.
func TestColdVerifyVectors(t *testing.T) {
	for _, v := range loadVerifyVectors(t) {
		if len(v.pub) != ed25519.PublicKeySize || len(v.sig) != ed25519.SignatureSize {
			continue
		}
		if got := verifyCold(v.pub, v.msg, v.sig); got != v.std {
			t.Errorf("%s: verifyCold = %v, ed25519.Verify = %v", v.name, got, v.std)
		}
	}
}

// Past coldOps operations crypto/ed25519 takes over.
func TestColdWarmsUp(t *testing.T) {
	warmOnce.Do(warmUp) // as the background warm-up would
	if !useStd() {
		t.Fatal("still cold after the warm-up")
	}
}

func FuzzColdVerify(f *testing.F) {
	for _, v := range loadVerifyVectors(f) {
		f.Add(v.pub, v.msg, v.sig)
	}
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return
		}
		if got, want := verifyCold(pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("verifyCold = %v, ed25519.Verify = %v", got, want)
		}
	})
}
