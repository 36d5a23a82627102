// Package pcp encodes Port Control Protocol requests and decodes responses
// (RFC 6887), limited to what a port-mapping client needs: the ANNOUNCE
// opcode (used as a probe) and the MAP opcode. Every address on the wire is
// 16 bytes; IPv4 travels as an IPv4-mapped IPv6 address.
//
// Parsing is strict and allocation-free: a datagram that is short, longer
// than the protocol's 1100-byte maximum, not a multiple of four bytes, of
// another version, or not a response is refused with an error.
package pcp
