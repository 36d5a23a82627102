package lookup

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// DNS constants used by iroh's address lookup (RFC 1035, RFC 6891).
const (
	TypeTXT uint16 = 16
	TypeOPT uint16 = 41
	TypeANY uint16 = 255
	ClassIN uint16 = 1

	// Header flag bits.
	FlagResponse           uint16 = 0x8000
	FlagAuthoritative      uint16 = 0x0400
	FlagTruncated          uint16 = 0x0200
	FlagRecursionDesired   uint16 = 0x0100
	FlagRecursionAvailable uint16 = 0x0080
	flagZ                  uint16 = 0x0040 // reserved; Rust's parser rejects it
	opcodeMask             uint16 = 0x7800
	rcodeMask              uint16 = 0x000f

	// Response codes.
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNXDomain = 3
	RcodeNotImp   = 4
	RcodeRefused  = 5

	dnsHeaderLen   = 12
	maxNameWireLen = 255
	maxLabelLen    = 63
	maxPointerHops = 64
	minQuestionLen = 5  // root name + type + class
	minRecordLen   = 11 // root name + type + class + ttl + rdlength
)

// Question is one entry of a message's question section.
type Question struct {
	Name  string // dotted, without the trailing dot; "" is the root
	Type  uint16
	Class uint16
}

// Record is one resource record; Data is the raw RDATA (see TXTStrings).
type Record struct {
	Name  string
	Type  uint16
	Class uint16
	TTL   uint32
	Data  []byte
}

// Message is a DNS message. Names are compared case-insensitively
// elsewhere in the package but kept as received.
type Message struct {
	ID          uint16
	Flags       uint16
	Questions   []Question
	Answers     []Record
	Authorities []Record
	Additionals []Record
}

// Rcode is the message's response code.
func (m *Message) Rcode() int { return int(m.Flags & rcodeMask) }

// Pack encodes m, compressing repeated name suffixes.
func (m *Message) Pack() ([]byte, error) {
	for _, n := range []int{len(m.Questions), len(m.Answers), len(m.Authorities), len(m.Additionals)} {
		if n > 0xffff {
			return nil, fmt.Errorf("%w: more than 65535 entries in a section", ErrMessageTooLarge)
		}
	}
	b := make([]byte, dnsHeaderLen, 512)
	binary.BigEndian.PutUint16(b[0:], m.ID)
	binary.BigEndian.PutUint16(b[2:], m.Flags)
	binary.BigEndian.PutUint16(b[4:], uint16(len(m.Questions)))
	binary.BigEndian.PutUint16(b[6:], uint16(len(m.Answers)))
	binary.BigEndian.PutUint16(b[8:], uint16(len(m.Authorities)))
	binary.BigEndian.PutUint16(b[10:], uint16(len(m.Additionals)))
	c := make(nameTable)
	var err error
	for _, q := range m.Questions {
		if b, err = c.appendName(b, q.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, q.Type)
		b = binary.BigEndian.AppendUint16(b, q.Class)
	}
	for _, sec := range [][]Record{m.Answers, m.Authorities, m.Additionals} {
		for _, r := range sec {
			if b, err = c.appendName(b, r.Name); err != nil {
				return nil, err
			}
			if len(r.Data) > 0xffff {
				return nil, fmt.Errorf("%w: RDATA over 65535 bytes", ErrMessageTooLarge)
			}
			b = binary.BigEndian.AppendUint16(b, r.Type)
			b = binary.BigEndian.AppendUint16(b, r.Class)
			b = binary.BigEndian.AppendUint32(b, r.TTL)
			b = binary.BigEndian.AppendUint16(b, uint16(len(r.Data)))
			b = append(b, r.Data...)
		}
	}
	return b, nil
}

// nameTable maps a lower-cased name suffix to the offset where it was
// first written, for compression pointers.
type nameTable map[string]int

func (c nameTable) appendName(b []byte, name string) ([]byte, error) {
	labels, err := splitName(name)
	if err != nil {
		return nil, err
	}
	for i := range labels {
		suffix := strings.ToLower(strings.Join(labels[i:], "."))
		if off, ok := c[suffix]; ok {
			return binary.BigEndian.AppendUint16(b, 0xc000|uint16(off)), nil
		}
		if len(b) < 0x4000 {
			c[suffix] = len(b)
		}
		b = append(b, byte(len(labels[i])))
		b = append(b, labels[i]...)
	}
	return append(b, 0), nil
}

// splitName checks a dotted name (one trailing dot allowed) and returns
// its labels.
func splitName(name string) ([]string, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil, nil
	}
	labels := strings.Split(name, ".")
	wire := 1
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen {
			return nil, fmt.Errorf("%w: %q", ErrBadName, name)
		}
		wire += 1 + len(l)
	}
	if wire > maxNameWireLen {
		return nil, fmt.Errorf("%w: longer than 255 bytes", ErrBadName)
	}
	return labels, nil
}

// ParseMessage decodes a complete DNS message. It follows compression
// pointers (backwards only, bounded hops and name length, so loops end),
// refuses the reserved Z flag like Rust's parser does, and rejects
// truncated input and trailing bytes.
func ParseMessage(b []byte) (*Message, error) {
	if len(b) < dnsHeaderLen {
		return nil, fmt.Errorf("%w: %d-byte header", ErrMalformedDNS, len(b))
	}
	m := &Message{ID: binary.BigEndian.Uint16(b[0:]), Flags: binary.BigEndian.Uint16(b[2:])}
	if m.Flags&flagZ != 0 {
		return nil, fmt.Errorf("%w: reserved Z flag set", ErrMalformedDNS)
	}
	qd := int(binary.BigEndian.Uint16(b[4:]))
	an := int(binary.BigEndian.Uint16(b[6:]))
	ns := int(binary.BigEndian.Uint16(b[8:]))
	ar := int(binary.BigEndian.Uint16(b[10:]))
	// Cheap bound before allocating: every entry needs its minimum size.
	if qd*minQuestionLen+(an+ns+ar)*minRecordLen > len(b)-dnsHeaderLen {
		return nil, fmt.Errorf("%w: section counts exceed the message", ErrMalformedDNS)
	}
	p := &parser{msg: b, off: dnsHeaderLen}
	if qd > 0 {
		m.Questions = make([]Question, 0, qd)
	}
	for range qd {
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		fixed, err := p.take(4)
		if err != nil {
			return nil, err
		}
		m.Questions = append(m.Questions, Question{
			Name: name, Type: binary.BigEndian.Uint16(fixed), Class: binary.BigEndian.Uint16(fixed[2:]),
		})
	}
	var err error
	if m.Answers, err = p.records(an); err != nil {
		return nil, err
	}
	if m.Authorities, err = p.records(ns); err != nil {
		return nil, err
	}
	if m.Additionals, err = p.records(ar); err != nil {
		return nil, err
	}
	if p.off != len(b) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformedDNS, len(b)-p.off)
	}
	return m, nil
}

type parser struct {
	msg []byte
	off int
}

func (p *parser) take(n int) ([]byte, error) {
	if n > len(p.msg)-p.off {
		return nil, fmt.Errorf("%w: truncated at offset %d", ErrMalformedDNS, p.off)
	}
	s := p.msg[p.off : p.off+n]
	p.off += n
	return s, nil
}

func (p *parser) records(n int) ([]Record, error) {
	if n == 0 {
		return nil, nil
	}
	rs := make([]Record, 0, n)
	for range n {
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		fixed, err := p.take(10)
		if err != nil {
			return nil, err
		}
		data, err := p.take(int(binary.BigEndian.Uint16(fixed[8:])))
		if err != nil {
			return nil, err
		}
		rs = append(rs, Record{
			Name:  name,
			Type:  binary.BigEndian.Uint16(fixed),
			Class: binary.BigEndian.Uint16(fixed[2:]),
			TTL:   binary.BigEndian.Uint32(fixed[4:]),
			Data:  append([]byte(nil), data...),
		})
	}
	return rs, nil
}

// name reads a possibly compressed name at p.off and advances past it.
func (p *parser) name() (string, error) {
	var sb strings.Builder
	off, wire, hops, jumped := p.off, 1, 0, false
	for {
		if off >= len(p.msg) {
			return "", fmt.Errorf("%w: name runs past the end", ErrMalformedDNS)
		}
		c := p.msg[off]
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if !jumped {
					p.off = off + 1
				}
				return sb.String(), nil
			}
			end := off + 1 + int(c)
			if end > len(p.msg) {
				return "", fmt.Errorf("%w: label runs past the end", ErrMalformedDNS)
			}
			if wire += 1 + int(c); wire > maxNameWireLen {
				return "", fmt.Errorf("%w: name longer than 255 bytes", ErrMalformedDNS)
			}
			label := p.msg[off+1 : end]
			if strings.IndexByte(string(label), '.') >= 0 {
				return "", fmt.Errorf("%w: label contains a dot", ErrMalformedDNS)
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(label)
			off = end
		case 0xc0:
			if off+2 > len(p.msg) {
				return "", fmt.Errorf("%w: truncated pointer", ErrMalformedDNS)
			}
			ptr := int(binary.BigEndian.Uint16(p.msg[off:]) & 0x3fff)
			if ptr >= off {
				return "", fmt.Errorf("%w: forward compression pointer", ErrMalformedDNS)
			}
			if hops++; hops > maxPointerHops {
				return "", fmt.Errorf("%w: too many compression pointers", ErrMalformedDNS)
			}
			if !jumped {
				p.off = off + 2
				jumped = true
			}
			off = ptr
		default:
			return "", fmt.Errorf("%w: unsupported label type 0x%02x", ErrMalformedDNS, c)
		}
	}
}

// TXTStrings splits TXT RDATA into its character-strings.
func TXTStrings(rdata []byte) ([][]byte, error) {
	var out [][]byte
	for len(rdata) > 0 {
		n := int(rdata[0])
		if 1+n > len(rdata) {
			return nil, fmt.Errorf("%w: TXT string runs past its record", ErrMalformedDNS)
		}
		out = append(out, rdata[1:1+n])
		rdata = rdata[1+n:]
	}
	return out, nil
}

// TXTData encodes s as TXT RDATA, split into 255-byte character-strings
// (one empty string for empty s).
func TXTData(s string) []byte {
	b := make([]byte, 0, len(s)+1+len(s)/255)
	for {
		n := min(len(s), 255)
		b = append(b, byte(n))
		b = append(b, s[:n]...)
		s = s[n:]
		if len(s) == 0 {
			return b
		}
	}
}

// equalName compares two dotted names case-insensitively, ignoring a
// trailing dot on either.
func equalName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
