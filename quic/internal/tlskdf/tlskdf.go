// Package tlskdf holds the TLS 1.3 key-derivation primitives (RFC 8446 §7.1)
// shared by the handshake engine and QUIC packet protection (RFC 9001 §5).
package tlskdf

import (
	"crypto/hkdf"
	"encoding/binary"
	"hash"
)

// ExpandLabel is HKDF-Expand-Label with the "tls13 " prefix.
func ExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) []byte {
	info := make([]byte, 0, 2+1+6+len(label)+1+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		// Only reachable with length > 255*hash size, a programming error.
		panic("tlskdf: " + err.Error())
	}
	return out
}

// Extract is HKDF-Extract(salt, ikm).
func Extract(h func() hash.Hash, ikm, salt []byte) []byte {
	out, err := hkdf.Extract(h, ikm, salt)
	if err != nil {
		panic("tlskdf: " + err.Error())
	}
	return out
}
