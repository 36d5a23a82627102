package relayproto

import (
	"encoding/base64"
	"strings"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/blake3"
)

// SignFunc signs a message with the endpoint's Ed25519 secret key and
// returns the 64-byte signature, e.g.
// func(m []byte) []byte { return ed25519.Sign(priv, m) }.
type SignFunc func(msg []byte) []byte

// ChallengeMessage is what a client signs in answer to a ServerChallenge:
// BLAKE3 derive_key(ChallengeContext, challenge). Signing a derived key
// instead of the raw challenge stops a malicious relay from obtaining
// signatures over bytes of its choosing.
func ChallengeMessage(challenge [ChallengeLen]byte) [32]byte {
	return blake3.DeriveKey(ChallengeContext, challenge[:])
}

// SignChallenge builds the ClientAuth answer to challenge for the endpoint
// with public key pub.
func SignChallenge(sign SignFunc, pub [EndpointIDLen]byte, challenge [ChallengeLen]byte) (*ClientAuth, error) {
	msg := ChallengeMessage(challenge)
	sig := sign(msg[:])
	if len(sig) != SignatureLen {
		return nil, ErrBadSignatureLength
	}
	return &ClientAuth{PublicKey: pub, Signature: [SignatureLen]byte(sig)}, nil
}

// VerifyClientAuth checks a ClientAuth against the challenge the relay sent,
// with the same strict Ed25519 rules as iroh. On failure the Rust relay
// answers ServerDeniesAuth{DenyReasonSignatureInvalid}.
func VerifyClientAuth(auth *ClientAuth, challenge [ChallengeLen]byte) error {
	msg := ChallengeMessage(challenge)
	if !identity.VerifyStrict(auth.PublicKey[:], msg[:], auth.Signature[:]) {
		return ErrSignatureInvalid
	}
	return nil
}

// KeyMaterialAuth is the body of the ClientAuthHeader: authentication
// through TLS keying material instead of a challenge, saving a round trip.
// The client exports KeyingMaterialLen bytes with KeyingMaterialLabel and its
// public key as context, signs the first half directly (no BLAKE3 here) and
// echoes the second half so the relay can tell a proxy-altered exporter from
// a bad signature.
type KeyMaterialAuth struct {
	PublicKey [EndpointIDLen]byte
	Signature [SignatureLen]byte
	Suffix    [KeyingMaterialLen / 2]byte
}

// keyMaterialAuthLen is the postcard body size: key ‖ 0x40 ‖ sig ‖ suffix.
const keyMaterialAuthLen = EndpointIDLen + 1 + SignatureLen + KeyingMaterialLen/2

// NewKeyMaterialAuth signs exported keying material ekm for the endpoint pub.
func NewKeyMaterialAuth(sign SignFunc, pub [EndpointIDLen]byte, ekm []byte) (*KeyMaterialAuth, error) {
	if len(ekm) != KeyingMaterialLen {
		return nil, ErrBadKeyingMaterial
	}
	half := KeyingMaterialLen / 2
	sig := sign(ekm[:half])
	if len(sig) != SignatureLen {
		return nil, ErrBadSignatureLength
	}
	return &KeyMaterialAuth{
		PublicKey: pub,
		Signature: [SignatureLen]byte(sig),
		Suffix:    [KeyingMaterialLen / 2]byte(ekm[half:]),
	}, nil
}

// HeaderValue is the ClientAuthHeader value: the postcard body in base64url
// without padding (151 characters).
func (a *KeyMaterialAuth) HeaderValue() string {
	body := make([]byte, 0, keyMaterialAuthLen)
	body = append(body, a.PublicKey[:]...)
	body = append(body, SignatureLen)
	body = append(body, a.Signature[:]...)
	body = append(body, a.Suffix[:]...)
	return base64.RawURLEncoding.EncodeToString(body)
}

// strictRawURL rejects padding and non-zero trailing bits, as the Rust
// decoder (data-encoding BASE64URL_NOPAD) does.
var strictRawURL = base64.RawURLEncoding.Strict()

// ParseKeyMaterialHeader decodes a ClientAuthHeader value. It does not
// verify the signature (that needs the relay's own exporter output; see
// Verify). A malformed header fails the Rust relay's whole handshake.
func ParseKeyMaterialHeader(value string) (*KeyMaterialAuth, error) {
	// Go's decoder skips CR and LF; the Rust one does not.
	if strings.ContainsAny(value, "\r\n") {
		return nil, ErrBadHeaderEncoding
	}
	body, err := strictRawURL.DecodeString(value)
	if err != nil {
		return nil, ErrBadHeaderEncoding
	}
	a := new(KeyMaterialAuth)
	n, err := readKeyAndSignature(body, &a.PublicKey, &a.Signature)
	if err != nil {
		return nil, err
	}
	// Bytes after the suffix are ignored, as postcard does.
	if len(body)-n < len(a.Suffix) {
		return nil, ErrTruncated
	}
	a.Suffix = [KeyingMaterialLen / 2]byte(body[n:])
	return a, nil
}

// Verify checks the auth against the relay's own exporter output ekm
// (KeyingMaterialLen bytes, label KeyingMaterialLabel, context a.PublicKey).
// ErrKeyingMaterialMismatch and ErrSignatureInvalid both mean: fall back to
// the challenge flow.
func (a *KeyMaterialAuth) Verify(ekm []byte) error {
	if len(ekm) != KeyingMaterialLen {
		return ErrBadKeyingMaterial
	}
	half := KeyingMaterialLen / 2
	if [KeyingMaterialLen / 2]byte(ekm[half:]) != a.Suffix {
		return ErrKeyingMaterialMismatch
	}
	if !identity.VerifyStrict(a.PublicKey[:], ekm[:half], a.Signature[:]) {
		return ErrSignatureInvalid
	}
	return nil
}

// ExportFunc returns TLS exported keying material for the given label and
// context, e.g. tls.ConnectionState.ExportKeyingMaterial.
type ExportFunc func(label string, context []byte, length int) ([]byte, error)

// KeyingMaterialHeader builds the ClientAuthHeader value for a client whose
// TLS connection exports with export.
func KeyingMaterialHeader(sign SignFunc, pub [EndpointIDLen]byte, export ExportFunc) (string, error) {
	ekm, err := export(KeyingMaterialLabel, pub[:], KeyingMaterialLen)
	if err != nil {
		return "", err
	}
	a, err := NewKeyMaterialAuth(sign, pub, ekm)
	if err != nil {
		return "", err
	}
	return a.HeaderValue(), nil
}

// VerifyKeyingMaterialHeader is the relay side: parse the header, export
// keying material with the claimed key as context, and verify. It returns
// the authenticated endpoint id. A parse error fails the handshake; any
// other error means the relay should fall back to a challenge.
func VerifyKeyingMaterialHeader(value string, export ExportFunc) ([EndpointIDLen]byte, error) {
	a, err := ParseKeyMaterialHeader(value)
	if err != nil {
		return [EndpointIDLen]byte{}, err
	}
	ekm, err := export(KeyingMaterialLabel, a.PublicKey[:], KeyingMaterialLen)
	if err != nil {
		return [EndpointIDLen]byte{}, err
	}
	if err := a.Verify(ekm); err != nil {
		return [EndpointIDLen]byte{}, err
	}
	return a.PublicKey, nil
}
