package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// AppendFrame appends e as one frame (length prefix and compact JSON
// envelope) to dst. It checks that Type and ID are valid UTF-8, that the
// payload is valid JSON, and that the body fits in DefaultMaxFrameSize. On
// error dst is returned unchanged.
func AppendFrame(dst []byte, e Envelope) ([]byte, error) {
	return appendFrame(dst, e, DefaultMaxFrameSize)
}

// AppendFrameRaw appends body, which must be a valid envelope, as one frame
// without changing its bytes (as a hub forwards frames).
func AppendFrameRaw(dst, body []byte) ([]byte, error) {
	return appendFrameRaw(dst, body, DefaultMaxFrameSize)
}

func appendFrame(dst []byte, e Envelope, limit int) ([]byte, error) {
	if !utf8.ValidString(e.Type) {
		return dst, fmt.Errorf("%w (in type)", ErrInvalidUTF8)
	}
	if !utf8.ValidString(e.ID) {
		return dst, fmt.Errorf("%w (in id)", ErrInvalidUTF8)
	}
	// The body is at least as long as type, id and the compacted payload;
	// refuse hopeless sizes before copying anything.
	if len(e.Type)+len(e.ID) > limit || len(e.Payload) > limit {
		return dst, tooLarge(len(e.Type)+len(e.ID)+len(e.Payload), limit)
	}
	compact := true
	if len(e.Payload) > 0 {
		var err error
		if compact, err = validatePayload(e.Payload); err != nil {
			return dst, err
		}
	}
	orig := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	bodyStart := len(dst)
	dst = append(dst, `{"type":`...)
	dst = quote(dst, e.Type)
	dst = append(dst, `,"id":`...)
	dst = quote(dst, e.ID)
	dst = append(dst, `,"payload":`...)
	switch {
	case len(e.Payload) == 0:
		dst = append(dst, "null"...)
	case compact:
		dst = append(dst, e.Payload...)
	default:
		dst = appendCompact(dst, e.Payload)
	}
	dst = append(dst, '}')
	n := len(dst) - bodyStart
	if n > limit {
		return dst[:orig], tooLarge(n, limit)
	}
	binary.BigEndian.PutUint32(dst[orig:], uint32(n))
	return dst, nil
}

func appendFrameRaw(dst, body []byte, limit int) ([]byte, error) {
	if len(body) > limit {
		return dst, tooLarge(len(body), limit)
	}
	if err := ValidateEnvelope(body); err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...), nil
}

func tooLarge(n, limit int) error {
	return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit)
}

// clampLimit turns a user-supplied frame limit into one a u32 prefix can
// express; <= 0 selects the default.
func clampLimit(maxFrame int) int {
	if maxFrame <= 0 {
		return DefaultMaxFrameSize
	}
	// A variable, not the constant: on 32-bit platforms int cannot hold
	// MaxUint32, and there the branch cannot be taken anyway.
	var prefixMax uint64 = math.MaxUint32
	if uint64(maxFrame) > prefixMax {
		return int(prefixMax)
	}
	return maxFrame
}

// validatePayload checks that p is one JSON value (as found inside an
// envelope, so at depth 1) and reports whether it is already compact.
func validatePayload(p []byte) (compact bool, err error) {
	if !utf8.Valid(p) {
		return false, fmt.Errorf("%w (in payload)", ErrInvalidUTF8)
	}
	s := scanner{data: p}
	if err := s.skipValue(1); err != nil {
		return false, err
	}
	s.skipWS()
	if s.pos != len(p) {
		return false, s.fail("data after the payload value")
	}
	return !s.ws, nil
}

// appendCompact appends valid JSON src without insignificant whitespace.
func appendCompact(dst, src []byte) []byte {
	inString := false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

const hexDigits = "0123456789abcdef"

// quote appends s (valid UTF-8) as a JSON string, escaping like
// JavaScript's JSON.stringify: only the quote, the backslash and control
// characters.
func quote(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !strSpecial[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
