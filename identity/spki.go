package identity

import (
	"bytes"
	"fmt"
)

// spkiPrefix is the fixed DER header of an Ed25519 SubjectPublicKeyInfo
// (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused
// bits) } followed by the 32 key bytes. This is what iroh puts in its TLS
// RawPublicKey certificate entry.
var spkiPrefix = []byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}

// SPKILen is the length of an Ed25519 SubjectPublicKeyInfo.
const SPKILen = 44

// SPKI returns the 44-byte DER SubjectPublicKeyInfo for the key.
func (id EndpointID) SPKI() []byte {
	out := make([]byte, 0, SPKILen)
	out = append(out, spkiPrefix...)
	return append(out, id[:]...)
}

// ParseSPKI accepts exactly the encoding SPKI produces: the fixed 12-byte
// header followed by a valid point. Anything else (algorithm parameters,
// other DER spellings, trailing bytes) is refused, since a lenient parser
// here would let a peer present the same key under several encodings.
func ParseSPKI(der []byte) (EndpointID, error) {
	if len(der) != SPKILen {
		return EndpointID{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidSPKI, len(der), SPKILen)
	}
	if !bytes.Equal(der[:len(spkiPrefix)], spkiPrefix) {
		return EndpointID{}, fmt.Errorf("%w: not an Ed25519 key header", ErrInvalidSPKI)
	}
	id, err := EndpointIDFromBytes(der[len(spkiPrefix):])
	if err != nil {
		return EndpointID{}, fmt.Errorf("%w: %w", ErrInvalidSPKI, err)
	}
	return id, nil
}
