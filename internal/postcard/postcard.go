// Package postcard reads and writes the subset of the postcard 1.x wire
// format (the Rust serde format iroh uses for tickets and relay handshake
// bodies) that irohspoke needs. The decoding rules are postcard's, quirks
// included, so that exactly the byte strings iroh accepts are accepted:
//
//   - integers wider than u8 are unsigned LEB128; a varint for an N-bit type
//     has at most ceil(N/7) bytes and its final byte may only carry the bits
//     that fit (so 2^N and above is refused);
//   - over-long encodings padded with 0x80 continuation bytes are accepted
//     (postcard does not check minimality) but never produced;
//   - enum tags are u32 varints, lengths are u64 varints (64-bit usize);
//   - bytes after a complete value are the caller's business: postcard
//     ignores them.
package postcard

import (
	"errors"
	"unicode/utf8"
)

// Decoding errors; callers wrap or translate them.
var (
	ErrTruncated = errors.New("postcard: unexpected end of input")
	ErrVarint    = errors.New("postcard: varint out of range")
	ErrUTF8      = errors.New("postcard: string is not UTF-8")
)

// Reader decodes values front to back from a byte slice. Returned slices
// alias the input.
type Reader struct {
	buf []byte
	off int
}

// NewReader reads from b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Offset is the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Remaining is the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Byte reads a u8, which postcard stores as is.
func (r *Reader) Byte() (byte, error) {
	if r.off >= len(r.buf) {
		return 0, ErrTruncated
	}
	b := r.buf[r.off]
	r.off++
	return b, nil
}

// Take reads n raw bytes (a fixed-size array).
func (r *Reader) Take(n uint64) ([]byte, error) {
	if n > uint64(r.Remaining()) {
		return nil, ErrTruncated
	}
	out := r.buf[r.off : r.off+int(n)]
	r.off += int(n)
	return out, nil
}

// varint reads an unsigned LEB128 value for a bits-wide integer type.
func (r *Reader) varint(bits uint) (uint64, error) {
	maxBytes := int((bits + 6) / 7)
	lastMax := byte(1)<<(bits%7) - 1
	var v uint64
	for i := range maxBytes {
		b, err := r.Byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << (7 * uint(i))
		if b&0x80 == 0 {
			if i == maxBytes-1 && b > lastMax {
				return 0, ErrVarint
			}
			return v, nil
		}
	}
	return 0, ErrVarint
}

// U16 reads a u16 varint.
func (r *Reader) U16() (uint16, error) {
	v, err := r.varint(16)
	return uint16(v), err
}

// U32 reads a u32 varint (also the form of enum tags).
func (r *Reader) U32() (uint32, error) {
	v, err := r.varint(32)
	return uint32(v), err
}

// U64 reads a u64 varint (also the form of lengths).
func (r *Reader) U64() (uint64, error) { return r.varint(64) }

// Bytes reads a length-prefixed byte string.
func (r *Reader) Bytes() ([]byte, error) {
	n, err := r.U64()
	if err != nil {
		return nil, err
	}
	return r.Take(n)
}

// Str reads a length-prefixed UTF-8 string.
func (r *Reader) Str() (string, error) {
	b, err := r.Bytes()
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", ErrUTF8
	}
	return string(b), nil
}

// AppendVarint appends v in minimal LEB128, the form of every integer wider
// than u8, of enum tags and of lengths.
func AppendVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// VarintLen is the number of bytes AppendVarint writes for v.
func VarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// AppendBytes appends a length-prefixed byte string.
func AppendBytes(dst, b []byte) []byte {
	return append(AppendVarint(dst, uint64(len(b))), b...)
}
