// Package relayproto is a pure (no I/O) codec for the iroh 1.0 relay
// protocol: the handshake frames (types 0–3), the relay frames (types 4–13),
// the challenge/keying-material authentication, and the constants a relay
// client or server needs around them.
//
// Each frame travels as exactly one binary WebSocket message: a QUIC varint
// frame type followed by the type's payload, with no length field. The
// WebSocket layer itself lives in another package.
//
// Parsing is as strict as iroh's own decoders, no more and no less, so that a
// Go peer rejects exactly what a Rust peer would reject. Encoding refuses
// anything a Rust peer could not decode (see Allowed and AppendFrameFor).
package relayproto
