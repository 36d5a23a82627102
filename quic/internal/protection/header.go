package protection

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20"

	"github.com/alkdev/irohspoke/quic/internal/tlskdf"
)

// ErrShortPacket reports a packet too short to hold the 16-byte sample
// header protection needs (RFC 9001 §5.4.2), which is never valid.
var ErrShortPacket = errors.New("protection: packet too short for header protection sample")

const (
	sampleLen = 16
	// sampleOffset is how far past the start of the packet number the sample
	// starts, assuming the longest (4-byte) packet number.
	sampleOffset = 4
)

// HeaderKey applies and removes header protection for one direction of one
// encryption level (RFC 9001 §5.4). It survives key updates.
type HeaderKey struct {
	suite  Suite
	block  cipher.Block // AES suites
	key    []byte       // ChaCha20 suite
	mask   [sampleLen]byte
	zeroes [5]byte
}

// NewHeaderKey derives the "quic hp" key from a traffic secret.
func NewHeaderKey(suite Suite, secret []byte) (*HeaderKey, error) {
	if !suite.valid() {
		return nil, ErrUnknownSuite
	}
	if len(secret) != suite.SecretLen() {
		return nil, ErrSecretLen
	}
	hp := tlskdf.ExpandLabel(suite.Hash(), secret, "quic hp", nil, suite.KeyLen())
	k := &HeaderKey{suite: suite}
	if suite == ChaCha20Poly1305SHA256 {
		k.key = hp
		return k, nil
	}
	block, err := aes.NewCipher(hp)
	if err != nil {
		return nil, err
	}
	k.block = block
	return k, nil
}

// computeMask fills the first five bytes of k.mask from the sample.
func (k *HeaderKey) computeMask(sample []byte) error {
	if k.block != nil {
		k.block.Encrypt(k.mask[:], sample)
		return nil
	}
	// ChaCha20: the sample is a 4-byte little-endian counter and a 12-byte
	// nonce; the mask is the keystream over five zero bytes.
	c, err := chacha20.NewUnauthenticatedCipher(k.key, sample[4:16])
	if err != nil {
		return err
	}
	c.SetCounter(binary.LittleEndian.Uint32(sample[0:4]))
	c.XORKeyStream(k.mask[:5], k.zeroes[:])
	return nil
}

func (k *HeaderKey) maskFor(pkt []byte, pnOffset int) error {
	if pnOffset < 1 || len(pkt)-pnOffset < sampleOffset+sampleLen {
		return ErrShortPacket
	}
	s := pnOffset + sampleOffset
	return k.computeMask(pkt[s : s+sampleLen])
}

func firstByteMask(first byte) byte {
	if first&0x80 != 0 {
		return 0x0f // long header: reserved bits and packet-number length
	}
	return 0x1f // short header: also the key phase
}

// Apply protects the header of a sealed packet in place. pkt starts at the
// first header byte; pnOffset is where the packet number starts. The
// packet-number length is read from the still-unprotected first byte.
func (k *HeaderKey) Apply(pkt []byte, pnOffset int) error {
	if err := k.maskFor(pkt, pnOffset); err != nil {
		return err
	}
	pnLen := int(pkt[0]&0x03) + 1
	pkt[0] ^= k.mask[0] & firstByteMask(pkt[0])
	for i := range pnLen {
		pkt[pnOffset+i] ^= k.mask[1+i]
	}
	return nil
}

// Remove unprotects the header in place and returns the packet-number
// length. Bytes after the packet number are untouched.
func (k *HeaderKey) Remove(pkt []byte, pnOffset int) (pnLen int, err error) {
	if err := k.maskFor(pkt, pnOffset); err != nil {
		return 0, err
	}
	pkt[0] ^= k.mask[0] & firstByteMask(pkt[0])
	pnLen = int(pkt[0]&0x03) + 1
	for i := range pnLen {
		pkt[pnOffset+i] ^= k.mask[1+i]
	}
	return pnLen, nil
}
