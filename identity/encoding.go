package identity

import "fmt"

// base32Codec is a strict RFC 4648-style base32 codec (MSB-first 5-bit
// groups, no padding) over an arbitrary alphabet. It mirrors the checks of
// the Rust data-encoding crate that iroh uses: the input length must be one a
// no-padding encoder can produce, and the unused trailing bits of the last
// symbol must be zero, so every byte string has exactly one accepted text form
// per letter case.
type base32Codec struct {
	alphabet string
	decode   [256]byte // symbol value, or invalidSymbol
}

const invalidSymbol = 0xff

const (
	rfc4648Alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	zbase32Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"
)

var (
	// base32Std accepts either letter case, like iroh, which upper-cases its
	// input before decoding. It encodes lowercase.
	base32Std = newBase32Codec(rfc4648Alphabet, true)
	// base32Z is case-sensitive: iroh's z-base-32 decoder does not fold case.
	base32Z = newBase32Codec(zbase32Alphabet, false)
)

func newBase32Codec(alphabet string, foldCase bool) *base32Codec {
	c := &base32Codec{alphabet: alphabet}
	for i := range c.decode {
		c.decode[i] = invalidSymbol
	}
	for i := 0; i < len(alphabet); i++ {
		ch := alphabet[i]
		c.decode[ch] = byte(i)
		if foldCase && ch >= 'a' && ch <= 'z' {
			c.decode[ch-'a'+'A'] = byte(i)
		}
	}
	return c
}

// EncodedLen is the length of the unpadded encoding of n bytes.
func (c *base32Codec) EncodedLen(n int) int { return (n*8 + 4) / 5 }

// Encode returns the unpadded encoding of src.
func (c *base32Codec) Encode(src []byte) string {
	out := make([]byte, 0, c.EncodedLen(len(src)))
	var acc uint32
	var nbits uint
	for _, b := range src {
		acc = acc<<8 | uint32(b)
		nbits += 8
		for nbits >= 5 {
			nbits -= 5
			out = append(out, c.alphabet[(acc>>nbits)&31])
		}
		acc &= 1<<nbits - 1
	}
	if nbits > 0 {
		out = append(out, c.alphabet[(acc<<(5-nbits))&31])
	}
	return string(out)
}

// Decode reverses Encode. Errors wrap ErrInvalidLength (a length no encoder
// produces) or ErrInvalidEncoding (a symbol outside the alphabet, or non-zero
// trailing bits).
func (c *base32Codec) Decode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s)*5/8)
	var acc uint32
	var nbits uint
	for i := 0; i < len(s); i++ {
		v := c.decode[s[i]]
		if v == invalidSymbol {
			return nil, fmt.Errorf("%w: base32 symbol %q at offset %d", ErrInvalidEncoding, s[i], i)
		}
		acc = acc<<5 | uint32(v)
		nbits += 5
		if nbits >= 8 {
			nbits -= 8
			out = append(out, byte(acc>>nbits))
			acc &= 1<<nbits - 1
		}
	}
	// Five or more left-over bits means a whole symbol carried no byte:
	// lengths 1, 3 and 6 modulo 8 cannot come from an encoder.
	if nbits >= 5 {
		return nil, fmt.Errorf("%w: %d base32 symbols", ErrInvalidLength, len(s))
	}
	if acc != 0 {
		return nil, fmt.Errorf("%w: non-zero trailing bits in base32", ErrInvalidEncoding)
	}
	return out, nil
}

// decodeLowerHex decodes exactly len(dst)*2 lowercase hex digits into dst.
// Upper-case digits get their own error because iroh rejects them and users
// meet that case often.
func decodeLowerHex(dst []byte, s string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%w: %d hex digits, want %d", ErrInvalidLength, len(s), 2*len(dst))
	}
	sawUpper := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'f':
		case ch >= 'A' && ch <= 'F':
			sawUpper = true
		default:
			return fmt.Errorf("%w: hex digit %q at offset %d", ErrInvalidEncoding, ch, i)
		}
	}
	if sawUpper {
		return ErrUppercaseHex
	}
	for i := range dst {
		dst[i] = hexValue(s[2*i])<<4 | hexValue(s[2*i+1])
	}
	return nil
}

func hexValue(ch byte) byte {
	if ch <= '9' {
		return ch - '0'
	}
	return ch - 'a' + 10
}

// decodeKey32 implements the string rule iroh's FromStr uses for both public
// and secret keys: exactly 64 characters means lowercase hex, anything else
// must be 52 characters of RFC 4648 base32 (either case, no padding).
func decodeKey32(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) == 64 {
		err := decodeLowerHex(out[:], s)
		return out, err
	}
	if len(s) != base32Std.EncodedLen(32) {
		return out, fmt.Errorf("%w: key string has %d characters, want 64 (hex) or 52 (base32)", ErrInvalidLength, len(s))
	}
	b, err := base32Std.Decode(s)
	if err != nil {
		return out, err
	}
	copy(out[:], b)
	return out, nil
}
