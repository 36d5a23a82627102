package protection

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
)

// RetryTagLen is the size of the Retry integrity tag.
const RetryTagLen = 16

// Fixed QUIC v1 Retry integrity key and nonce (RFC 9001 §5.8).
var (
	retryKeyV1   = []byte{0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e}
	retryNonceV1 = []byte{0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb}
)

var retryAEAD = func() cipher.AEAD {
	block, err := aes.NewCipher(retryKeyV1)
	if err != nil {
		panic(err) // constant 16-byte key
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}()

// RetryIntegrityTag computes the tag for a Retry packet. retry is the packet
// without its tag; odcid is the Destination Connection ID of the client's
// Initial that the Retry answers.
func RetryIntegrityTag(odcid, retry []byte) [RetryTagLen]byte {
	pseudo := make([]byte, 0, 1+len(odcid)+len(retry))
	pseudo = append(pseudo, byte(len(odcid)))
	pseudo = append(pseudo, odcid...)
	pseudo = append(pseudo, retry...)
	var tag [RetryTagLen]byte
	retryAEAD.Seal(tag[:0], retryNonceV1, nil, pseudo)
	return tag
}

// VerifyRetry reports whether a complete Retry packet (ending in its tag)
// carries a valid integrity tag for odcid.
func VerifyRetry(odcid, packet []byte) bool {
	if len(packet) < RetryTagLen {
		return false
	}
	body := packet[:len(packet)-RetryTagLen]
	tag := RetryIntegrityTag(odcid, body)
	return subtle.ConstantTimeCompare(tag[:], packet[len(body):]) == 1
}
