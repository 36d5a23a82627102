package lookup

import "errors"

// Errors returned by this package. Most are wrapped with context (which
// server, which name, why); match them with errors.Is.
var (
	// ErrMalformedDNS: bytes that are not a well-formed DNS message
	// (truncated, bad lengths, compression loops, reserved bits set).
	ErrMalformedDNS = errors.New("lookup: malformed DNS message")
	// ErrBadName: a domain name that cannot be encoded (empty or over-long
	// labels, names over 255 bytes).
	ErrBadName = errors.New("lookup: invalid DNS name")
	// ErrBadOrigin: an origin (DNS zone) that cannot hold iroh records;
	// see CheckOrigin.
	ErrBadOrigin = errors.New("lookup: invalid origin")
	// ErrBadNameserver: a nameserver that is neither host[:port] nor
	// IP[:port].
	ErrBadNameserver = errors.New("lookup: invalid nameserver")
	// ErrMessageTooLarge: an encoded message or a received answer exceeds
	// its size limit.
	ErrMessageTooLarge = errors.New("lookup: message too large")
	// ErrMalformedPacket: a pkarr signed packet of the wrong size (for
	// instance one without a signature) or whose DNS message does not
	// parse.
	ErrMalformedPacket = errors.New("lookup: malformed pkarr signed packet")
	// ErrBadSignature: a pkarr packet whose signature does not verify
	// (corrupted, or signed by another key) or whose key is not a usable
	// Ed25519 public key.
	ErrBadSignature = errors.New("lookup: pkarr signature does not verify")
	// ErrStalePacket: a pkarr packet older than one already seen for the
	// same endpoint (a rollback).
	ErrStalePacket = errors.New("lookup: pkarr packet older than one already seen")
	// ErrFuturePacket: a pkarr packet dated too far in the future.
	ErrFuturePacket = errors.New("lookup: pkarr packet dated in the future")
	// ErrUserDataTooLong: user data over MaxUserDataLen bytes.
	ErrUserDataTooLong = errors.New("lookup: user data too long")
	// ErrNotFound: the lookup service knows nothing about the endpoint
	// (NXDOMAIN, no _iroh TXT records, HTTP 404).
	ErrNotFound = errors.New("lookup: endpoint not found")
	// ErrRefused: a DNS server refused the query (it is neither
	// authoritative for the origin nor a resolver serving us).
	ErrRefused = errors.New("lookup: DNS query refused")
	// ErrServerFailure: a DNS answer with another error code (SERVFAIL,
	// NOTIMP, FORMERR, ...).
	ErrServerFailure = errors.New("lookup: DNS server failure")
	// ErrNoAnswer: no usable DNS answer before the attempt's timeout.
	ErrNoAnswer = errors.New("lookup: no DNS answer")
	// ErrNoResolver: a lookup with no resolver configured.
	ErrNoResolver = errors.New("lookup: no resolver configured")
	// ErrRateLimited: the pkarr relay refused the request (HTTP 429).
	ErrRateLimited = errors.New("lookup: rate limited")
	// ErrStaleTimestamp: a packet that is not newer than the one stored.
	ErrStaleTimestamp = errors.New("lookup: packet is not newer than the stored one")
)
