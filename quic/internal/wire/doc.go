// Package wire holds pure, allocation-conscious codecs for QUIC v1 (RFC 9000)
// packets, frames and transport parameters, plus the extensions iroh's QUIC
// stack (noq) speaks: multipath, ACK frequency, QUIC address discovery and
// n0 NAT traversal.
//
// Nothing here performs I/O or holds connection state. Decoders are strict and
// return *TransportError values carrying the RFC 9000 error code the
// connection must close with; encoders are append-style.
package wire
