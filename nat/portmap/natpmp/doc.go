// Package natpmp encodes NAT Port Mapping Protocol requests and decodes
// responses (RFC 6886): the external address request (opcode 0) and UDP or
// TCP mapping requests (opcodes 1 and 2).
//
// Parsing is strict and allocation-free: a datagram of the wrong length for
// its opcode, of another version, or not a response is refused.
package natpmp
