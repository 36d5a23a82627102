package handshake

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// spkiPrefix is the fixed DER prefix of an Ed25519 SubjectPublicKeyInfo
// (RFC 8410); the whole SPKI is this plus the 32-byte key, 44 bytes.
var spkiPrefix = []byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}

// ErrBadSPKI reports a raw public key that is not the canonical 44-byte
// Ed25519 SubjectPublicKeyInfo.
var ErrBadSPKI = errors.New("handshake: not a canonical Ed25519 SubjectPublicKeyInfo")

// MarshalSPKI returns the canonical 44-byte SPKI for an Ed25519 key.
func MarshalSPKI(pub ed25519.PublicKey) []byte {
	out := make([]byte, 0, len(spkiPrefix)+ed25519.PublicKeySize)
	return append(append(out, spkiPrefix...), pub...)
}

// ParseSPKI accepts only the exact canonical encoding: iroh compares SPKI
// bytes, so any other DER form of the same key would not interoperate.
func ParseSPKI(spki []byte) (ed25519.PublicKey, error) {
	if len(spki) != len(spkiPrefix)+ed25519.PublicKeySize || !bytes.HasPrefix(spki, spkiPrefix) {
		return nil, ErrBadSPKI
	}
	return ed25519.PublicKey(bytes.Clone(spki[len(spkiPrefix):])), nil
}

// selfSignedCertificate makes a deterministic self-signed Ed25519
// certificate for X.509 mode: peers pin the key, not the chain.
func selfSignedCertificate(priv ed25519.PrivateKey, rand io.Reader) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "irohspoke"},
		NotBefore:             time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	return x509.CreateCertificate(rand, tmpl, tmpl, priv.Public(), priv)
}

// peerKeyFromCertificate extracts and checks the peer's Ed25519 key from a
// Certificate message, returning the alert iroh would send on failure.
func peerKeyFromCertificate(mode Mode, entries [][]byte, want ed25519.PublicKey) (ed25519.PublicKey, *AlertError) {
	if len(entries) == 0 {
		return nil, alertf(AlertCertificateRequired, "peer sent no certificate")
	}
	if len(entries) > 1 {
		// iroh treats extra entries as intermediates it does not know.
		return nil, alertf(AlertUnknownCA, "peer sent %d certificates, want exactly one", len(entries))
	}
	var key ed25519.PublicKey
	switch mode {
	case ModeRawPublicKey:
		k, err := ParseSPKI(entries[0])
		if err != nil {
			if want != nil {
				return nil, alertf(AlertUnknownCA, "peer SPKI does not match the expected key")
			}
			return nil, alertf(AlertBadCertificate, "%v", err)
		}
		key = k
	case ModeX509:
		cert, err := x509.ParseCertificate(entries[0])
		if err != nil {
			return nil, alertf(AlertBadCertificate, "parsing peer certificate: %v", err)
		}
		k, ok := cert.PublicKey.(ed25519.PublicKey)
		if !ok {
			return nil, alertf(AlertUnsupportedCertificate, "peer certificate key is not Ed25519")
		}
		key = k
	default:
		return nil, alertf(AlertInternalError, "unknown certificate mode")
	}
	if want != nil && !bytes.Equal(key, want) {
		return nil, alertf(AlertUnknownCA, "peer key does not match the expected EndpointId")
	}
	return key, nil
}

const (
	serverSignatureContext = "TLS 1.3, server CertificateVerify\x00"
	clientSignatureContext = "TLS 1.3, client CertificateVerify\x00"
)

// signedMessage is the CertificateVerify input of RFC 8446 §4.4.3.
func signedMessage(context string, transcriptHash []byte) []byte {
	out := bytes.Repeat([]byte{0x20}, 64)
	out = append(out, context...)
	return append(out, transcriptHash...)
}

// verifyStrict checks a CertificateVerify signature with iroh's strict
// Ed25519 rules (see identity.VerifyStrict).
func verifyStrict(pub ed25519.PublicKey, msg, sig []byte) bool {
	return identity.VerifyStrict(pub, msg, sig)
}
