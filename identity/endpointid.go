package identity

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"filippo.io/edwards25519"
)

// EndpointID identifies an iroh endpoint: its 32-byte compressed Ed25519
// public key. It is comparable and usable as a map key. Values built by this
// package's constructors always decode to a curve point; a zero or
// hand-filled array may not.
type EndpointID [32]byte

// EndpointIDFromBytes checks that b is 32 bytes that decompress to an
// Ed25519 point. Like iroh (ed25519-dalek), it accepts non-canonical
// encodings of valid points.
func EndpointIDFromBytes(b []byte) (EndpointID, error) {
	var id EndpointID
	if len(b) != len(id) {
		return id, fmt.Errorf("%w: endpoint id has %d bytes, want 32", ErrInvalidLength, len(b))
	}
	if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
		return id, ErrInvalidPoint
	}
	copy(id[:], b)
	return id, nil
}

// ParseEndpointID parses iroh's FromStr forms: 64 lowercase hex characters,
// or 52 characters of RFC 4648 base32 without padding in either case.
// Upper-case hex and z-base-32 are rejected, as iroh does.
func ParseEndpointID(s string) (EndpointID, error) {
	b, err := decodeKey32(s)
	if err != nil {
		return EndpointID{}, err
	}
	return EndpointIDFromBytes(b[:])
}

// ParseZBase32 parses the lowercase z-base-32 form used in DNS names and
// pkarr URLs (see ZBase32).
func ParseZBase32(s string) (EndpointID, error) {
	if len(s) != base32Z.EncodedLen(32) {
		return EndpointID{}, fmt.Errorf("%w: z-base-32 id has %d characters, want 52", ErrInvalidLength, len(s))
	}
	b, err := base32Z.Decode(s)
	if err != nil {
		return EndpointID{}, err
	}
	return EndpointIDFromBytes(b)
}

// String returns the canonical form: 64 lowercase hex characters.
func (id EndpointID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the lowercase hex of the first 5 bytes, iroh's fmt_short.
func (id EndpointID) Short() string { return hex.EncodeToString(id[:5]) }

// Base32 returns lowercase RFC 4648 base32 without padding (52 characters).
func (id EndpointID) Base32() string { return base32Std.Encode(id[:]) }

// ZBase32 returns the z-base-32 form (52 characters) used only in DNS names.
func (id EndpointID) ZBase32() string { return base32Z.Encode(id[:]) }

// PublicKey returns the key as a crypto/ed25519 public key (a fresh copy).
func (id EndpointID) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), id[:]...)
}

// MarshalText returns the canonical hex form.
func (id EndpointID) MarshalText() ([]byte, error) {
	return []byte(id.String()), nil
}

// UnmarshalText accepts every form ParseEndpointID accepts.
func (id *EndpointID) UnmarshalText(text []byte) error {
	parsed, err := ParseEndpointID(string(text))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
