package identity

import "errors"

// Errors returned by this package. They are distinct sentinels; callers match
// them with errors.Is because most are wrapped with extra context.
var (
	// ErrInvalidLength: an input has the wrong size for what it encodes.
	ErrInvalidLength = errors.New("identity: invalid length")
	// ErrUppercaseHex: a 64-character key string uses upper-case hex, which
	// iroh's FromStr rejects.
	ErrUppercaseHex = errors.New("identity: hex key must be lowercase")
	// ErrInvalidEncoding: characters outside the alphabet, or non-zero
	// trailing bits in a base32 string.
	ErrInvalidEncoding = errors.New("identity: invalid encoding")
	// ErrInvalidPoint: 32 bytes that do not decode to an Ed25519 point.
	ErrInvalidPoint = errors.New("identity: not a valid Ed25519 public key")
	// ErrInvalidSPKI: a SubjectPublicKeyInfo that is not exactly a DER
	// Ed25519 key.
	ErrInvalidSPKI = errors.New("identity: invalid Ed25519 SubjectPublicKeyInfo")
	// ErrInvalidTicket: an endpoint ticket that iroh would not decode.
	ErrInvalidTicket = errors.New("identity: invalid endpoint ticket")
	// ErrUnsupportedAddr: a relay URL that iroh may accept but irohspoke
	// cannot use or normalise (other schemes, user info, non-ASCII hosts).
	ErrUnsupportedAddr = errors.New("identity: unsupported address")
	// ErrInvalidRelayURL: a string that is not an absolute URL.
	ErrInvalidRelayURL = errors.New("identity: invalid relay URL")

	// ErrKeyFileExists: WriteKeyFile would overwrite an existing file.
	ErrKeyFileExists = errors.New("identity: key file already exists")
	// ErrKeyFilePermissions: a key file is accessible to group or others.
	ErrKeyFilePermissions = errors.New("identity: key file permissions too open")
	// ErrInvalidKeyFile: a key file whose content is not in the documented
	// format.
	ErrInvalidKeyFile = errors.New("identity: malformed key file")
)
