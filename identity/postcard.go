package identity

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// This file holds the small subset of the postcard 1.x wire format (the Rust
// serde format iroh tickets use) that tickets need. The decoding rules copy
// postcard's, including its quirks, so that exactly the byte strings iroh
// accepts are accepted here:
//
//   - integers wider than u8 are unsigned LEB128; a varint for an N-bit type
//     has at most ceil(N/7) bytes and its final byte may only carry the bits
//     that fit (so 2^N and above is "oversize" and refused);
//   - over-long encodings padded with 0x80 continuation bytes are accepted
//     (postcard does not check minimality) but never produced;
//   - enum tags are u32 varints, lengths are u64 varints (64-bit usize).

var (
	errPostcardTruncated = errors.New("postcard: unexpected end of input")
	errPostcardVarint    = errors.New("postcard: varint out of range")
	errPostcardUTF8      = errors.New("postcard: string is not UTF-8")
)

type postcardReader struct {
	buf []byte
	off int
}

func (r *postcardReader) remaining() int { return len(r.buf) - r.off }

func (r *postcardReader) byte() (byte, error) {
	if r.off >= len(r.buf) {
		return 0, errPostcardTruncated
	}
	b := r.buf[r.off]
	r.off++
	return b, nil
}

func (r *postcardReader) take(n uint64) ([]byte, error) {
	if n > uint64(r.remaining()) {
		return nil, errPostcardTruncated
	}
	out := r.buf[r.off : r.off+int(n)]
	r.off += int(n)
	return out, nil
}

// varint reads an unsigned LEB128 value for a bits-wide integer type.
func (r *postcardReader) varint(bits uint) (uint64, error) {
	maxBytes := int((bits + 6) / 7)
	lastMax := byte(1)<<(bits%7) - 1
	var v uint64
	for i := 0; i < maxBytes; i++ {
		b, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << (7 * uint(i))
		if b&0x80 == 0 {
			if i == maxBytes-1 && b > lastMax {
				return 0, errPostcardVarint
			}
			return v, nil
		}
	}
	return 0, errPostcardVarint
}

func (r *postcardReader) u16() (uint16, error) {
	v, err := r.varint(16)
	return uint16(v), err
}

func (r *postcardReader) u32() (uint32, error) {
	v, err := r.varint(32)
	return uint32(v), err
}

func (r *postcardReader) u64() (uint64, error) { return r.varint(64) }

// bytes reads a length-prefixed byte string.
func (r *postcardReader) bytes() ([]byte, error) {
	n, err := r.u64()
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

// str reads a length-prefixed UTF-8 string.
func (r *postcardReader) str() (string, error) {
	b, err := r.bytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errPostcardUTF8
	}
	return string(b), nil
}

func appendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func appendPostcardBytes(dst, b []byte) []byte {
	return append(appendVarint(dst, uint64(len(b))), b...)
}

// postcardError wraps a decoding failure with the offset it happened at.
func postcardError(r *postcardReader, what string, err error) error {
	return fmt.Errorf("%w: %s at byte %d: %w", ErrInvalidTicket, what, r.off, err)
}
