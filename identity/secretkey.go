package identity

import (
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"
)

// SecretKey is an endpoint's Ed25519 private key, held as its 32-byte seed
// (the form iroh stores and parses). It never prints its contents: every fmt
// verb, String and GoString give "SecretKey(redacted)", and text/JSON
// marshalling refuses. The zero value holds no key (see IsZero).
//
// The key material sits two pointers away. When a SecretKey is an
// unexported field of another struct, fmt cannot call its methods and prints
// the raw fields instead; for a verb that does not fit a pointer (%s, %q) it
// even dereferences the first pointer. The second hop makes it print an
// address, never the seed.
type SecretKey struct {
	m *secretBox
}

type secretBox struct{ material *secretMaterial }

type secretMaterial struct {
	seed [32]byte
	priv ed25519.PrivateKey
}

const redactedSecretKey = "SecretKey(redacted)"

// errSecretKeyNotMarshalable is returned by the marshalling methods.
var errSecretKeyNotMarshalable = errors.New("identity: refusing to marshal a SecretKey; use Bytes or WriteKeyFile explicitly")

// GenerateSecretKey draws a new seed from rand (crypto/rand when nil).
func GenerateSecretKey(rand io.Reader) (SecretKey, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	var seed [32]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return SecretKey{}, fmt.Errorf("identity: reading randomness: %w", err)
	}
	return newSecretKey(seed), nil
}

// SecretKeyFromBytes builds a key from a 32-byte seed.
func SecretKeyFromBytes(seed []byte) (SecretKey, error) {
	if len(seed) != ed25519.SeedSize {
		return SecretKey{}, fmt.Errorf("%w: secret key seed has %d bytes, want 32", ErrInvalidLength, len(seed))
	}
	return newSecretKey([32]byte(seed)), nil
}

// ParseSecretKey accepts iroh's FromStr forms: 64 lowercase hex characters
// or 52 characters of RFC 4648 base32 (either case, no padding).
func ParseSecretKey(s string) (SecretKey, error) {
	seed, err := decodeKey32(s)
	if err != nil {
		return SecretKey{}, err
	}
	return newSecretKey(seed), nil
}

func newSecretKey(seed [32]byte) SecretKey {
	var priv ed25519.PrivateKey
	if useStd() {
		priv = ed25519.NewKeyFromSeed(seed[:])
	} else {
		priv = privateKeyCold(&seed)
	}
	m := &secretMaterial{seed: seed, priv: priv}
	return SecretKey{m: &secretBox{material: m}}
}

// IsZero reports whether k holds no key (the zero value).
func (k SecretKey) IsZero() bool { return k.m == nil }

// Bytes returns the seed. It is all zeros for the zero value.
func (k SecretKey) Bytes() [32]byte {
	if k.m == nil {
		return [32]byte{}
	}
	return k.m.material.seed
}

// Public returns the key's EndpointID, or the zero EndpointID for the zero
// value.
func (k SecretKey) Public() EndpointID {
	if k.m == nil {
		return EndpointID{}
	}
	return EndpointID(k.m.material.priv[32:])
}

// Sign returns the deterministic RFC 8032 Ed25519 signature of msg, or nil
// for the zero value (which no peer will accept).
func (k SecretKey) Sign(msg []byte) []byte {
	if k.m == nil {
		return nil
	}
	return Sign(k.m.material.priv, msg)
}

// PrivateKey returns a copy of the key in crypto/ed25519 form (seed ‖ public
// key), or nil for the zero value.
func (k SecretKey) PrivateKey() ed25519.PrivateKey {
	if k.m == nil {
		return nil
	}
	return append(ed25519.PrivateKey(nil), k.m.material.priv...)
}

// String never reveals the key.
func (k SecretKey) String() string { return redactedSecretKey }

// GoString never reveals the key.
func (k SecretKey) GoString() string { return redactedSecretKey }

// Format makes every fmt verb and flag print the redacted form.
func (k SecretKey) Format(f fmt.State, verb rune) { io.WriteString(f, redactedSecretKey) }

// MarshalText refuses, so a key is never written out by accident through
// encoding/json, YAML or similar.
func (k SecretKey) MarshalText() ([]byte, error) { return nil, errSecretKeyNotMarshalable }

// MarshalJSON refuses; see MarshalText.
func (k SecretKey) MarshalJSON() ([]byte, error) { return nil, errSecretKeyNotMarshalable }

// MarshalBinary refuses; see MarshalText.
func (k SecretKey) MarshalBinary() ([]byte, error) { return nil, errSecretKeyNotMarshalable }
