// Package protection implements QUIC packet protection (RFC 9001 §5): key
// derivation from TLS secrets, AEAD sealing and opening (including the
// multipath nonce that mixes in a path ID), header protection, key updates
// (§6) and the Retry integrity tag (§5.8).
//
// Keys are not safe for concurrent use: each holds scratch space so that
// protecting a packet does not allocate.
package protection
