package handshake

import (
	"golang.org/x/crypto/cryptobyte"
)

// Extension codepoints (IANA TLS ExtensionType registry).
const (
	extServerName              uint16 = 0
	extStatusRequest           uint16 = 5
	extSupportedGroups         uint16 = 10
	extECPointFormats          uint16 = 11
	extSignatureAlgorithms     uint16 = 13
	extALPN                    uint16 = 16
	extClientCertificateType   uint16 = 19
	extServerCertificateType   uint16 = 20
	extExtendedMasterSecret    uint16 = 23
	extPreSharedKey            uint16 = 41
	extEarlyData               uint16 = 42
	extSupportedVersions       uint16 = 43
	extCookie                  uint16 = 44
	extPSKKeyExchangeModes     uint16 = 45
	extCertificateAuthorities  uint16 = 47
	extSignatureAlgorithmsCert uint16 = 50
	extKeyShare                uint16 = 51
	extQUICTransportParameters uint16 = 57
)

// CurveID is a TLS NamedGroup.
type CurveID uint16

const (
	X25519    CurveID = 0x001d
	CurveP256 CurveID = 0x0017
)

const (
	versionTLS12 uint16 = 0x0303
	versionTLS13 uint16 = 0x0304

	sigEd25519 uint16 = 0x0807

	certTypeX509         uint8 = 0
	certTypeRawPublicKey uint8 = 2

	pskModeDHE uint8 = 1
)

type extension struct {
	typ  uint16
	data []byte
}

// readExtensions reads a u16-prefixed extension block that must be the rest
// of s. Duplicate extension types are a decode error (RFC 8446 §4.2).
func readExtensions(s *cryptobyte.String) ([]extension, bool) {
	if s.Empty() {
		return nil, true // some messages allow omitting the block entirely
	}
	var block cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&block) || !s.Empty() {
		return nil, false
	}
	var exts []extension
	seen := make(map[uint16]bool)
	for !block.Empty() {
		var e extension
		var data cryptobyte.String
		if !block.ReadUint16(&e.typ) || !block.ReadUint16LengthPrefixed(&data) {
			return nil, false
		}
		if seen[e.typ] {
			return nil, false
		}
		seen[e.typ] = true
		e.data = data
		exts = append(exts, e)
	}
	return exts, true
}

func addExtensions(b *cryptobyte.Builder, exts []extension) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, e := range exts {
			b.AddUint16(e.typ)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.data) })
		}
	})
}

// build runs f on a fresh builder and returns its bytes; builders only fail
// on length overflow, which our own messages never reach.
func build(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	return out
}

// readUint16List reads a u16-prefixed, non-empty list of u16 values.
func readUint16List(s *cryptobyte.String) ([]uint16, bool) {
	var l cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&l) || l.Empty() || len(l)%2 != 0 {
		return nil, false
	}
	out := make([]uint16, 0, len(l)/2)
	for !l.Empty() {
		var v uint16
		l.ReadUint16(&v)
		out = append(out, v)
	}
	return out, true
}

func addUint16List(b *cryptobyte.Builder, vals []uint16) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, v := range vals {
			b.AddUint16(v)
		}
	})
}

// readBody parses one extension body completely with f.
func readBody(data []byte, f func(s *cryptobyte.String) bool) bool {
	s := cryptobyte.String(data)
	return f(&s) && s.Empty()
}

func parseServerName(data []byte) (string, bool) {
	var name string
	ok := readBody(data, func(s *cryptobyte.String) bool {
		var list cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&list) || list.Empty() {
			return false
		}
		for !list.Empty() {
			var typ uint8
			var host cryptobyte.String
			if !list.ReadUint8(&typ) || !list.ReadUint16LengthPrefixed(&host) || len(host) == 0 {
				return false
			}
			if typ != 0 {
				continue
			}
			if name != "" {
				return false // at most one host_name (RFC 6066 §3)
			}
			name = string(host)
		}
		return true
	})
	return name, ok
}

func marshalServerName(name string) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8(0)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
		})
	})
}

func parseALPN(data []byte) ([]string, bool) {
	var protos []string
	ok := readBody(data, func(s *cryptobyte.String) bool {
		var list cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&list) || list.Empty() {
			return false
		}
		for !list.Empty() {
			var p cryptobyte.String
			if !list.ReadUint8LengthPrefixed(&p) || p.Empty() {
				return false
			}
			protos = append(protos, string(p))
		}
		return true
	})
	return protos, ok
}

func marshalALPN(protos []string) []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, p := range protos {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
			}
		})
	})
}

// parseCertTypeList parses the ClientHello form of client/server_certificate_type.
func parseCertTypeList(data []byte) ([]uint8, bool) {
	var types []uint8
	ok := readBody(data, func(s *cryptobyte.String) bool {
		var l cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&l) || l.Empty() {
			return false
		}
		types = append(types, l...)
		return true
	})
	return types, ok
}

func parseUint16ListBody(data []byte) ([]uint16, bool) {
	var l []uint16
	ok := readBody(data, func(s *cryptobyte.String) bool {
		var ok bool
		l, ok = readUint16List(s)
		return ok
	})
	return l, ok
}

func containsUint16(list []uint16, v uint16) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsUint8(list []uint8, v uint8) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
