package wire

import "errors"

// MaxVarint is the largest value a QUIC variable-length integer can hold.
const MaxVarint = 1<<62 - 1

var (
	// ErrTruncated reports input that ended in the middle of a field.
	ErrTruncated = errors.New("wire: truncated input")
	// ErrVarintRange reports a value that does not fit in 62 bits.
	ErrVarintRange = errors.New("wire: varint value out of range")
)

// VarintLen returns how many bytes the shortest encoding of v takes. Values
// above MaxVarint report 8; AppendVarint refuses to encode them.
func VarintLen(v uint64) int {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<30:
		return 4
	default:
		return 8
	}
}

// AppendVarint appends the shortest encoding of v. Values above MaxVarint are
// a programming error; they are clamped to MaxVarint so no malformed bytes are
// ever produced.
func AppendVarint(b []byte, v uint64) []byte {
	if v > MaxVarint {
		v = MaxVarint
	}
	switch VarintLen(v) {
	case 1:
		return append(b, byte(v))
	case 2:
		return append(b, 0x40|byte(v>>8), byte(v))
	case 4:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// AppendVarintWithLen appends v using exactly n bytes (1, 2, 4 or 8). It is
// for fields that are patched after the fact, such as a long header's Length.
// It reports false if v does not fit in n bytes.
func AppendVarintWithLen(b []byte, v uint64, n int) ([]byte, bool) {
	switch n {
	case 1:
		if v >= 1<<6 {
			return b, false
		}
		return append(b, byte(v)), true
	case 2:
		if v >= 1<<14 {
			return b, false
		}
		return append(b, 0x40|byte(v>>8), byte(v)), true
	case 4:
		if v >= 1<<30 {
			return b, false
		}
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v)), true
	case 8:
		if v > MaxVarint {
			return b, false
		}
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v)), true
	}
	return b, false
}

// ParseVarint decodes the variable-length integer at the start of b and
// returns it with the number of bytes it used. Longer-than-needed encodings
// are accepted, as RFC 9000 §16 allows; use IsMinimalVarint where the
// protocol demands otherwise.
func ParseVarint(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncated
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, ErrTruncated
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, nil
}

// IsMinimalVarint reports whether an n-byte encoding of v is the shortest.
func IsMinimalVarint(v uint64, n int) bool { return VarintLen(v) == n }
