package lookup

import "errors"

// Errors returned by this package. Most are wrapped with context; match
// them with errors.Is.
var (
	// ErrMalformedDNS: bytes that are not a well-formed DNS message
	// (truncated, bad lengths, compression loops, reserved bits set).
	ErrMalformedDNS = errors.New("lookup: malformed DNS message")
	// ErrBadName: a domain name that cannot be encoded (empty or over-long
	// labels, names over 255 bytes).
	ErrBadName = errors.New("lookup: invalid DNS name")
	// ErrMessageTooLarge: an encoded message exceeds its size limit.
	ErrMessageTooLarge = errors.New("lookup: message too large")
	// ErrMalformedPacket: a pkarr signed packet of the wrong size or whose
	// DNS message does not parse.
	ErrMalformedPacket = errors.New("lookup: malformed pkarr signed packet")
	// ErrBadSignature: a pkarr packet whose signature does not verify or
	// whose key is not a usable Ed25519 public key.
	ErrBadSignature = errors.New("lookup: pkarr signature does not verify")
	// ErrUserDataTooLong: user data over MaxUserDataLen bytes.
	ErrUserDataTooLong = errors.New("lookup: user data too long")
	// ErrNotFound: the lookup service knows nothing about the endpoint.
	ErrNotFound = errors.New("lookup: endpoint not found")
	// ErrNoResolver: a lookup with no resolver configured.
	ErrNoResolver = errors.New("lookup: no resolver configured")
	// ErrRateLimited: the pkarr relay refused the request (HTTP 429).
	ErrRateLimited = errors.New("lookup: rate limited")
	// ErrStaleTimestamp: a packet that is not newer than the one stored.
	ErrStaleTimestamp = errors.New("lookup: packet is not newer than the stored one")
)
