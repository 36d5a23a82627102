package protection

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Suite is a TLS 1.3 cipher suite ID.
type Suite uint16

// The TLS 1.3 cipher suites QUIC v1 uses.
const (
	AES128GCMSHA256        Suite = 0x1301
	AES256GCMSHA384        Suite = 0x1302
	ChaCha20Poly1305SHA256 Suite = 0x1303
)

// ErrUnknownSuite reports a cipher suite this package does not implement.
var ErrUnknownSuite = errors.New("protection: unsupported cipher suite")

// Hash returns the suite's HKDF hash, or nil for an unknown suite.
func (s Suite) Hash() func() hash.Hash {
	switch s {
	case AES128GCMSHA256, ChaCha20Poly1305SHA256:
		return sha256.New
	case AES256GCMSHA384:
		return sha512.New384
	}
	return nil
}

// SecretLen is the size of the suite's traffic secrets.
func (s Suite) SecretLen() int {
	if s == AES256GCMSHA384 {
		return sha512.Size384
	}
	return sha256.Size
}

// KeyLen is the size of the suite's AEAD and header-protection keys.
func (s Suite) KeyLen() int {
	if s == AES128GCMSHA256 {
		return 16
	}
	return 32
}

func (s Suite) valid() bool { return s.Hash() != nil }

func (s Suite) newAEAD(key []byte) (cipher.AEAD, error) {
	if s == ChaCha20Poly1305SHA256 {
		return chacha20poly1305.New(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
