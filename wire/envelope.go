package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxFrameSize is the largest frame body a Node iroh hub accepts.
const DefaultMaxFrameSize = 16 << 20

// Envelope is one alkpubsub message.
type Envelope struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// Payload is raw JSON; nil (or empty) is encoded as null. After
	// ParseEnvelope it aliases the parsed input.
	Payload json.RawMessage `json:"payload"`
}

// EchoSuffix is appended to the type of a frame when a hub echoes it.
const EchoSuffix = ".echo"

// TypeError is the type of the envelope a hub sends for a bad frame.
const TypeError = "error"

// Echo returns the envelope a hub sends back for e.
func (e Envelope) Echo() Envelope {
	return Envelope{Type: e.Type + EchoSuffix, ID: e.ID, Payload: e.Payload}
}

// ErrorEnvelope returns a hub-style error answer: payload {"error": msg}.
// Invalid UTF-8 in msg is replaced so that the result always encodes.
func ErrorEnvelope(id, msg string) Envelope {
	p := append([]byte(`{"error":`), quote(nil, toValidUTF8(msg))...)
	return Envelope{Type: TypeError, ID: toValidUTF8(id), Payload: append(p, '}')}
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(bytes.ToValidUTF8([]byte(s), []byte("\uFFFD")))
}

// member identifies the envelope members the decoder cares about.
type member int

const (
	memberOther member = iota
	memberType
	memberID
	memberPayload
)

// span is a raw member value inside the parsed input.
type span struct {
	start, end int
	seen       bool
	isString   bool
	escaped    bool
}

type envelopeSpans struct {
	typ, id, payload span
	duplicate        bool
}

// scanEnvelope validates data as an envelope and locates its members. It
// allocates nothing unless a member name uses escapes.
func scanEnvelope(data []byte) (envelopeSpans, error) {
	var sp envelopeSpans
	if !utf8.Valid(data) {
		return sp, ErrInvalidUTF8
	}
	s := scanner{data: data}
	s.skipWS()
	if s.peek() != '{' {
		if err := s.skipValue(0); err != nil {
			return sp, err
		}
		return sp, &syntaxError{offset: 0, msg: "not an object"}
	}
	s.pos++
	s.skipWS()
	if s.peek() == '}' {
		s.pos++
	} else {
		for {
			if s.peek() != '"' {
				return sp, s.fail("expected member name")
			}
			nameStart := s.pos
			escaped, err := s.scanString()
			if err != nil {
				return sp, err
			}
			which := classify(data[nameStart+1:s.pos-1], escaped)
			s.skipWS()
			if s.peek() != ':' {
				return sp, s.fail("expected ':'")
			}
			s.pos++
			s.skipWS()
			v := span{start: s.pos, seen: true}
			if which != memberPayload && s.peek() == '"' {
				v.isString = true
				if v.escaped, err = s.scanString(); err != nil {
					return sp, err
				}
			} else if err := s.skipValue(1); err != nil {
				return sp, err
			}
			v.end = s.pos
			var slot *span
			switch which {
			case memberType:
				slot = &sp.typ
			case memberID:
				slot = &sp.id
			case memberPayload:
				slot = &sp.payload
			}
			if slot != nil {
				if slot.seen {
					sp.duplicate = true
				}
				*slot = v
			}
			s.skipWS()
			if c := s.peek(); c == ',' {
				s.pos++
				s.skipWS()
				continue
			} else if c == '}' {
				s.pos++
				break
			}
			return sp, s.fail("expected ',' or '}'")
		}
	}
	s.skipWS()
	if s.pos != len(data) {
		return sp, s.fail("data after the envelope object")
	}
	switch {
	case sp.duplicate:
		return sp, ErrDuplicateKey
	case !sp.typ.seen:
		return sp, ErrMissingType
	case !sp.typ.isString:
		return sp, fmt.Errorf("%w (it is not a string)", ErrMissingType)
	case !sp.id.seen:
		return sp, ErrMissingID
	case !sp.id.isString:
		return sp, fmt.Errorf("%w (it is not a string)", ErrMissingID)
	}
	return sp, nil
}

func classify(name []byte, escaped bool) member {
	if escaped {
		name = unescape(nil, name)
	}
	switch string(name) {
	case "type":
		return memberType
	case "id":
		return memberID
	case "payload":
		return memberPayload
	}
	return memberOther
}

// ParseEnvelope decodes one frame body. It is strict: the input must be
// valid UTF-8 and a single RFC 8259 JSON object whose "type" and "id" are
// strings, with none of "type", "id" and "payload" repeated. Other members
// are ignored. Payload aliases data (nil when absent); copy data before
// reusing its memory.
func ParseEnvelope(data []byte) (Envelope, error) {
	sp, err := scanEnvelope(data)
	if err != nil {
		return Envelope{}, err
	}
	e := Envelope{Type: decodeString(data, sp.typ), ID: decodeString(data, sp.id)}
	if sp.payload.seen {
		e.Payload = data[sp.payload.start:sp.payload.end:sp.payload.end]
	}
	return e, nil
}

// ValidateEnvelope reports whether data would pass ParseEnvelope, without
// allocating. Use it to check frames that are forwarded unchanged.
func ValidateEnvelope(data []byte) error {
	_, err := scanEnvelope(data)
	return err
}

func decodeString(data []byte, v span) string {
	raw := data[v.start+1 : v.end-1]
	if !v.escaped {
		return string(raw)
	}
	return string(unescape(make([]byte, 0, len(raw)), raw))
}

// unescape appends the decoded contents of a validated JSON string (without
// its quotes). Unpaired surrogates become U+FFFD, as in encoding/json.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			return append(dst, s[i:]...)
		}
		dst = append(dst, s[i:i+j]...)
		i += j
		switch c := s[i+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
					r = dec
					i += 6
				} else {
					r = unicode.ReplacementChar
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		i += 2
	}
	return dst
}
