package protection

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"

	"github.com/alkdev/irohspoke/quic/internal/tlskdf"
)

// ErrDecrypt reports a packet that failed AEAD authentication. The core
// drops such packets silently (RFC 9001 §5.5 / RFC 9000 §12.3).
var ErrDecrypt = errors.New("protection: packet authentication failed")

// ErrSecretLen reports a traffic secret of the wrong size for the suite.
var ErrSecretLen = errors.New("protection: secret has wrong length")

// TagLen is the AEAD tag size of every QUIC v1 cipher suite.
const TagLen = 16

const ivLen = 12

// PacketKeys protects packet payloads for one direction and one key phase.
// They are derived from a TLS traffic secret; Next derives the keys of the
// following key phase (RFC 9001 §6).
type PacketKeys struct {
	suite  Suite
	secret []byte
	aead   cipher.AEAD
	iv     [ivLen]byte
	nonce  [ivLen]byte // scratch, reused per packet
}

// NewPacketKeys derives "quic key" and "quic iv" from a traffic secret.
func NewPacketKeys(suite Suite, secret []byte) (*PacketKeys, error) {
	if !suite.valid() {
		return nil, ErrUnknownSuite
	}
	if len(secret) != suite.SecretLen() {
		return nil, ErrSecretLen
	}
	h := suite.Hash()
	key := tlskdf.ExpandLabel(h, secret, "quic key", nil, suite.KeyLen())
	aead, err := suite.newAEAD(key)
	if err != nil {
		return nil, err
	}
	k := &PacketKeys{suite: suite, secret: append([]byte(nil), secret...), aead: aead}
	copy(k.iv[:], tlskdf.ExpandLabel(h, secret, "quic iv", nil, ivLen))
	return k, nil
}

// Suite returns the cipher suite of k.
func (k *PacketKeys) Suite() Suite { return k.suite }

// NextSecret derives the traffic secret of the next key phase ("quic ku").
func NextSecret(suite Suite, secret []byte) []byte {
	return tlskdf.ExpandLabel(suite.Hash(), secret, "quic ku", nil, suite.SecretLen())
}

// Next returns the keys of the next key phase. Header protection keys do
// not change on a key update, so they are not part of PacketKeys.
func (k *PacketKeys) Next() (*PacketKeys, error) {
	return NewPacketKeys(k.suite, NextSecret(k.suite, k.secret))
}

// Overhead is the number of bytes sealing adds.
func (k *PacketKeys) Overhead() int { return TagLen }

// makeNonce computes iv XOR (pathID as 4 bytes || pn as 8 bytes). For path
// 0 this is the RFC 9001 nonce; otherwise draft-ietf-quic-multipath's.
func (k *PacketKeys) makeNonce(pathID uint32, pn uint64) []byte {
	binary.BigEndian.PutUint32(k.nonce[0:4], pathID)
	binary.BigEndian.PutUint64(k.nonce[4:12], pn)
	for i := range k.nonce {
		k.nonce[i] ^= k.iv[i]
	}
	return k.nonce[:]
}

// Seal encrypts payload with header as associated data and appends the
// result to dst. To seal in place, pass payload[:0] as dst.
func (k *PacketKeys) Seal(dst, header, payload []byte, pn uint64) []byte {
	return k.aead.Seal(dst, k.makeNonce(0, pn), payload, header)
}

// Open authenticates and decrypts ciphertext (payload plus tag) with header
// as associated data, appending the plaintext to dst. To open in place, pass
// ciphertext[:0].
func (k *PacketKeys) Open(dst, header, ciphertext []byte, pn uint64) ([]byte, error) {
	return k.OpenPath(dst, header, ciphertext, 0, pn)
}

// SealPath is Seal for a packet in multipath packet-number space pathID.
func (k *PacketKeys) SealPath(dst, header, payload []byte, pathID uint32, pn uint64) []byte {
	return k.aead.Seal(dst, k.makeNonce(pathID, pn), payload, header)
}

// OpenPath is Open for a packet in multipath packet-number space pathID.
func (k *PacketKeys) OpenPath(dst, header, ciphertext []byte, pathID uint32, pn uint64) ([]byte, error) {
	if len(ciphertext) < TagLen {
		return nil, ErrDecrypt
	}
	out, err := k.aead.Open(dst, k.makeNonce(pathID, pn), ciphertext, header)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}
