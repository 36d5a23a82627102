package protection

import (
	"bytes"
	"testing"
)

var suites = []struct {
	name  string
	suite Suite
}{
	{"AES128GCM", AES128GCMSHA256},
	{"AES256GCM", AES256GCMSHA384},
	{"ChaCha20Poly1305", ChaCha20Poly1305SHA256},
}

func benchKeys(b *testing.B, s Suite) Keys {
	k, err := NewKeys(s, bytes.Repeat([]byte{0x5a}, s.SecretLen()))
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// A 1200-byte 1-RTT packet: 1 + 8-byte DCID + 2-byte PN header.
const benchHeaderLen = 11

func BenchmarkSeal1200(b *testing.B) {
	for _, s := range suites {
		b.Run(s.name, func(b *testing.B) {
			k := benchKeys(b, s.suite)
			buf := make([]byte, 1200)
			buf[0] = 0x41
			payload := buf[benchHeaderLen : 1200-TagLen]
			b.SetBytes(1200)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				k.Packet.Seal(payload[:0], buf[:benchHeaderLen], payload, uint64(i))
				if err := k.Header.Apply(buf, benchHeaderLen-2); err != nil {
					b.Fatal(err)
				}
				buf[0] = 0x41
			}
		})
	}
}

func BenchmarkOpen1200(b *testing.B) {
	for _, s := range suites {
		b.Run(s.name, func(b *testing.B) {
			k := benchKeys(b, s.suite)
			sealed := make([]byte, benchHeaderLen, 1200)
			sealed[0] = 0x41
			sealed = k.Packet.Seal(sealed, sealed[:benchHeaderLen], make([]byte, 1200-TagLen-benchHeaderLen), 9)
			if err := k.Header.Apply(sealed, benchHeaderLen-2); err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, len(sealed))
			b.SetBytes(1200)
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, sealed)
				pnLen, err := k.Header.Remove(buf, benchHeaderLen-2)
				if err != nil {
					b.Fatal(err)
				}
				end := benchHeaderLen - 2 + pnLen
				if _, err := k.Packet.Open(buf[end:end], buf[:end], buf[end:], 9); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzOpen feeds arbitrary bytes through header-protection removal and
// opening: it must only ever return errors, never panic or succeed.
func FuzzOpen(f *testing.F) {
	f.Add([]byte{0x40, 1, 2, 3}, uint8(1), uint8(0))
	f.Add(bytes.Repeat([]byte{0xc3}, 64), uint8(18), uint8(1))
	f.Add(bytes.Repeat([]byte{0x41}, 1200), uint8(9), uint8(2))
	keys := make([]Keys, len(suites))
	for i, s := range suites {
		k, err := NewKeys(s.suite, bytes.Repeat([]byte{0x5a}, s.suite.SecretLen()))
		if err != nil {
			f.Fatal(err)
		}
		keys[i] = k
	}
	f.Fuzz(func(t *testing.T, pkt []byte, pnOffset, suite uint8) {
		k := keys[int(suite)%len(keys)]
		pnLen, err := k.Header.Remove(pkt, int(pnOffset))
		if err != nil {
			return
		}
		end := int(pnOffset) + pnLen
		if _, err := k.Packet.OpenPath(nil, pkt[:end], pkt[end:], uint32(pnOffset), 0); err == nil {
			t.Fatal("random bytes authenticated")
		}
	})
}
