package handshake

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"github.com/alkdev/irohspoke/quic/internal/tlskdf"
)

// TLS 1.3 cipher suites (RFC 8446 §B.4).
const (
	TLS_AES_128_GCM_SHA256       uint16 = 0x1301
	TLS_AES_256_GCM_SHA384       uint16 = 0x1302
	TLS_CHACHA20_POLY1305_SHA256 uint16 = 0x1303
)

// defaultCipherSuites follows the rustls ring provider order.
var defaultCipherSuites = []uint16{TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256}

type cipherSuite struct {
	id   uint16
	hash crypto.Hash
}

func (s *cipherSuite) newHash() hash.Hash {
	if s.hash == crypto.SHA384 {
		return sha512.New384()
	}
	return sha256.New()
}

func (s *cipherSuite) hashLen() int { return s.hash.Size() }

func cipherSuiteByID(id uint16) *cipherSuite {
	switch id {
	case TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256:
		return &cipherSuite{id: id, hash: crypto.SHA256}
	case TLS_AES_256_GCM_SHA384:
		return &cipherSuite{id: id, hash: crypto.SHA384}
	}
	return nil
}

// transcriptHash hashes the concatenated handshake messages.
func (s *cipherSuite) transcriptHash(transcript []byte) []byte {
	h := s.newHash()
	h.Write(transcript)
	return h.Sum(nil)
}

func (s *cipherSuite) expandLabel(secret []byte, label string, context []byte, length int) []byte {
	return tlskdf.ExpandLabel(s.newHash, secret, label, context, length)
}

// deriveSecret is Derive-Secret(secret, label, messages) given the
// transcript hash of messages.
func (s *cipherSuite) deriveSecret(secret []byte, label string, transcriptHash []byte) []byte {
	if transcriptHash == nil {
		transcriptHash = s.transcriptHash(nil)
	}
	return s.expandLabel(secret, label, transcriptHash, s.hashLen())
}

func (s *cipherSuite) extract(ikm, salt []byte) []byte {
	if ikm == nil {
		ikm = make([]byte, s.hashLen())
	}
	return tlskdf.Extract(s.newHash, ikm, salt)
}

// earlySecret is HKDF-Extract(0, PSK); psk nil means no PSK.
func (s *cipherSuite) earlySecret(psk []byte) []byte {
	return s.extract(psk, nil)
}

func (s *cipherSuite) handshakeSecret(early, sharedSecret []byte) []byte {
	return s.extract(sharedSecret, s.deriveSecret(early, "derived", nil))
}

func (s *cipherSuite) masterSecret(handshakeSecret []byte) []byte {
	return s.extract(nil, s.deriveSecret(handshakeSecret, "derived", nil))
}

func (s *cipherSuite) finishedKey(trafficSecret []byte) []byte {
	return s.expandLabel(trafficSecret, "finished", nil, s.hashLen())
}

// finishedMAC is the verify_data of a Finished message (RFC 8446 §4.4.4).
func (s *cipherSuite) finishedMAC(trafficSecret, transcriptHash []byte) []byte {
	m := hmac.New(s.newHash, s.finishedKey(trafficSecret))
	m.Write(transcriptHash)
	return m.Sum(nil)
}

// exportKeyingMaterial implements RFC 8446 §7.5.
func (s *cipherSuite) exportKeyingMaterial(exporterSecret []byte, label string, context []byte, length int) []byte {
	secret := s.deriveSecret(exporterSecret, label, nil)
	h := s.newHash()
	h.Write(context)
	return s.expandLabel(secret, "exporter", h.Sum(nil), length)
}

// Labels of RFC 8446 §7.1.
const (
	labelClientHandshake  = "c hs traffic"
	labelServerHandshake  = "s hs traffic"
	labelClientAppTraffic = "c ap traffic"
	labelServerAppTraffic = "s ap traffic"
	labelExporter         = "exp master"
	labelResumption       = "res master"
)
