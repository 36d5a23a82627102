// Package websocket is a minimal RFC 6455 implementation for the iroh relay:
// the HTTP/1.1 upgrade in both roles, binary messages with fragment
// reassembly, client masking, and ping/pong/close control frames. It has no
// extensions, no compression and starts no goroutines.
package websocket

import (
	"encoding/binary"
	"errors"
)

// Opcode is a WebSocket frame opcode.
type Opcode uint8

// Opcodes defined by RFC 6455.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

func (op Opcode) known() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// MaxHeaderLen is the largest frame header: 2 bytes, 8 bytes of extended
// length and a 4-byte mask key.
const MaxHeaderLen = 14

// maxControlPayload is RFC 6455's limit for control frame payloads.
const maxControlPayload = 125

// Frame header decoding errors.
var (
	// ErrShortHeader: more bytes are needed to decode the header.
	ErrShortHeader = errors.New("websocket: incomplete frame header")
	// ErrReservedBits: RSV1–3 set without a negotiated extension.
	ErrReservedBits = errors.New("websocket: reserved bits set")
	// ErrUnknownOpcode: an opcode RFC 6455 reserves.
	ErrUnknownOpcode = errors.New("websocket: unknown opcode")
	// ErrBadControlFrame: a fragmented or over-long control frame.
	ErrBadControlFrame = errors.New("websocket: invalid control frame")
	// ErrNonMinimalLength: the length used a longer form than needed, or the
	// 64-bit form had its top bit set.
	ErrNonMinimalLength = errors.New("websocket: invalid payload length encoding")
	// ErrMasking: a client frame was not masked or a server frame was.
	ErrMasking = errors.New("websocket: wrong masking for this direction")
	// ErrMessageTooLarge: a frame or reassembled message exceeds the limit.
	ErrMessageTooLarge = errors.New("websocket: message too large")
	// ErrFragmentation: a continuation without a started message, or a new
	// data frame while a message is still open.
	ErrFragmentation = errors.New("websocket: invalid fragmentation")
	// ErrBadClosePayload: a close frame with a 1-byte payload, an invalid
	// code, or a reason that is not UTF-8.
	ErrBadClosePayload = errors.New("websocket: invalid close frame payload")
)

// Header is a decoded frame header.
type Header struct {
	Fin     bool
	Op      Opcode
	Masked  bool
	MaskKey [4]byte
	Length  uint64
}

// Len is the encoded size of h.
func (h *Header) Len() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the encoding of h (shortest length form) to dst.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Op) & 0x0F
	if h.Fin {
		b0 |= 0x80
	}
	var mask byte
	if h.Masked {
		mask = 0x80
	}
	switch {
	case h.Length > 0xFFFF:
		dst = append(dst, b0, mask|127)
		dst = binary.BigEndian.AppendUint64(dst, h.Length)
	case h.Length > 125:
		dst = append(dst, b0, mask|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.Length))
	default:
		dst = append(dst, b0, mask|byte(h.Length))
	}
	if h.Masked {
		dst = append(dst, h.MaskKey[:]...)
	}
	return dst
}

// ParseHeader decodes a frame header from the start of b and returns it with
// its encoded length. It returns ErrShortHeader when b holds only part of a
// header. It checks everything that can be checked from the header alone:
// reserved bits, opcode, control frame rules and minimal length encoding.
func ParseHeader(b []byte) (Header, int, error) {
	var h Header
	if len(b) < 2 {
		return h, 0, ErrShortHeader
	}
	if b[0]&0x70 != 0 {
		return h, 0, ErrReservedBits
	}
	h.Fin = b[0]&0x80 != 0
	h.Op = Opcode(b[0] & 0x0F)
	if !h.Op.known() {
		return h, 0, ErrUnknownOpcode
	}
	h.Masked = b[1]&0x80 != 0
	n := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		if len(b) < n+2 {
			return h, 0, ErrShortHeader
		}
		h.Length = uint64(binary.BigEndian.Uint16(b[n:]))
		n += 2
		if h.Length <= 125 {
			return h, 0, ErrNonMinimalLength
		}
	case 127:
		if len(b) < n+8 {
			return h, 0, ErrShortHeader
		}
		h.Length = binary.BigEndian.Uint64(b[n:])
		n += 8
		if h.Length <= 0xFFFF || h.Length>>63 != 0 {
			return h, 0, ErrNonMinimalLength
		}
	default:
		h.Length = uint64(l)
	}
	if h.Op.IsControl() && (!h.Fin || h.Length > maxControlPayload) {
		return h, 0, ErrBadControlFrame
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrShortHeader
		}
		copy(h.MaskKey[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// Mask XORs b in place with key, starting at position pos of the payload
// (so a payload can be unmasked in pieces). It returns the next position.
func Mask(key [4]byte, pos int, b []byte) int {
	// Word-at-a-time for the bulk; relay datagrams are ~1200 bytes.
	for len(b) > 0 && pos&3 != 0 {
		b[0] ^= key[pos&3]
		b = b[1:]
		pos++
	}
	if len(b) >= 8 {
		k32 := binary.LittleEndian.Uint32(key[:])
		k64 := uint64(k32) | uint64(k32)<<32
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
			pos += 8
		}
	}
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos
}
