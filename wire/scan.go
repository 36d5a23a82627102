package wire

// A single-pass RFC 8259 validator. encoding/json validates a document and
// then decodes it in a second pass; this scanner does both jobs at once for
// the envelope and only validates the (raw) payload, without allocating.

// maxDepth is the nesting limit of encoding/json, so that both accept the
// same documents.
const maxDepth = 10000

// strSpecial marks the bytes that end the fast path inside a string: the
// quote, the backslash and the control characters, which must be escaped.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

type scanner struct {
	data []byte
	pos  int
	ws   bool // insignificant whitespace seen (the text is not compact)
}

func (s *scanner) fail(msg string) error { return &syntaxError{offset: s.pos, msg: msg} }

func (s *scanner) skipWS() {
	d := s.data
	for s.pos < len(d) {
		switch d[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
			s.ws = true
		default:
			return
		}
	}
}

// peek returns the byte at pos, or 0 at the end of input (0 is never valid
// where peek is used, so it doubles as an end marker).
func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// scanString consumes a string whose opening quote is at pos and reports
// whether it contains escapes. UTF-8 validity is checked by the caller for
// the whole input at once, which is faster than per string.
func (s *scanner) scanString() (escaped bool, err error) {
	d := s.data
	i := s.pos + 1
	for {
		for i < len(d) && !strSpecial[d[i]] {
			i++
		}
		if i >= len(d) {
			s.pos = i
			return false, s.fail("unterminated string")
		}
		switch c := d[i]; c {
		case '"':
			s.pos = i + 1
			return escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(d) {
				s.pos = i
				return false, s.fail("unterminated string")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || hex4(d[i+2:i+6]) < 0 {
					s.pos = i
					return false, s.fail(`invalid \u escape`)
				}
				i += 6
			default:
				s.pos = i
				return false, s.fail("invalid escape")
			}
		default:
			s.pos = i
			return false, s.fail("control character in string")
		}
	}
}

// hex4 decodes 4 hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (s *scanner) scanNumber() error {
	d := s.data
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	default:
		s.pos = i
		return s.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == start {
			s.pos = i
			return s.fail("invalid number fraction")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		for i < len(d) && isDigit(d[i]) {
			i++
		}
		if i == start {
			s.pos = i
			return s.fail("invalid number exponent")
		}
	}
	s.pos = i
	return nil
}

func (s *scanner) scanLiteral(lit string) error {
	end := s.pos + len(lit)
	if end > len(s.data) || string(s.data[s.pos:end]) != lit {
		return s.fail("invalid literal")
	}
	s.pos = end
	return nil
}

// memberName consumes `"name" :` inside an object, with pos at the quote.
func (s *scanner) memberName() error {
	if s.peek() != '"' {
		return s.fail("expected member name")
	}
	if _, err := s.scanString(); err != nil {
		return err
	}
	s.skipWS()
	if s.peek() != ':' {
		return s.fail("expected ':'")
	}
	s.pos++
	return nil
}

// bitStack records, per open container, whether it is an object. It needs
// no allocation until 64 levels of nesting.
type bitStack struct {
	small uint64
	big   []uint64
}

func (b *bitStack) set(i int, v bool) {
	word, bit := &b.small, uint(i)
	if i >= 64 {
		k := (i - 64) / 64
		for len(b.big) <= k {
			b.big = append(b.big, 0)
		}
		word, bit = &b.big[k], uint(i%64)
	}
	if v {
		*word |= 1 << bit
	} else {
		*word &^= 1 << bit
	}
}

func (b *bitStack) get(i int) bool {
	if i < 64 {
		return b.small&(1<<uint(i)) != 0
	}
	return b.big[(i-64)/64]&(1<<uint(i%64)) != 0
}

// skipValue validates one value (after optional whitespace) nested inside
// depth open containers. It is iterative, so hostile nesting cannot grow
// the goroutine stack.
func (s *scanner) skipValue(depth int) error {
	var open bitStack
	n := 0 // containers opened by this call and not yet closed
	for {
		s.skipWS()
		switch c := s.peek(); {
		case c == '{' || c == '[':
			if depth+n+1 > maxDepth {
				return s.fail("nesting too deep")
			}
			s.pos++
			isObj := c == '{'
			s.skipWS()
			if (isObj && s.peek() == '}') || (!isObj && s.peek() == ']') {
				s.pos++ // an empty container is a complete value
				break
			}
			open.set(n, isObj)
			n++
			if isObj {
				if err := s.memberName(); err != nil {
					return err
				}
			}
			continue // the first member value or element
		case c == '"':
			if _, err := s.scanString(); err != nil {
				return err
			}
		case c == 't':
			if err := s.scanLiteral("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := s.scanLiteral("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := s.scanLiteral("null"); err != nil {
				return err
			}
		case c == '-' || isDigit(c):
			if err := s.scanNumber(); err != nil {
				return err
			}
		case s.pos >= len(s.data):
			return s.fail("unexpected end of input")
		default:
			return s.fail("invalid character")
		}
		// A value is complete: close containers until one wants more.
		for {
			if n == 0 {
				return nil
			}
			s.skipWS()
			isObj := open.get(n - 1)
			c := s.peek()
			if c == ',' {
				s.pos++
				if isObj {
					s.skipWS()
					if err := s.memberName(); err != nil {
						return err
					}
				}
				break
			}
			if (isObj && c == '}') || (!isObj && c == ']') {
				s.pos++
				n--
				continue
			}
			if isObj {
				return s.fail("expected ',' or '}'")
			}
			return s.fail("expected ',' or ']'")
		}
	}
}
