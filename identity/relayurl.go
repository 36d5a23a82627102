package identity

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// NormalizeRelayURL returns the string iroh's RelayUrl (a WHATWG URL, parsed
// by the Rust url crate) would serialise s to, so that relay URLs compare
// equal with iroh's and tickets encode byte-identically.
//
// Supported: the special schemes http, https, ws and wss; hosts that are
// ASCII domain names (lower-cased, percent-decoded, a trailing dot kept),
// IPv4 addresses in any WHATWG spelling ("127.1", "0x7f.0.0.1") and IPv6
// literals (re-serialised in WHATWG's compressed form); a port (the scheme's
// default is dropped); path, query and fragment with WHATWG percent-encoding
// and dot-segment removal. An empty path becomes "/".
//
// iroh accepts any URL the url crate parses, but irohspoke can only dial the
// above. Other schemes, user info ("user@host") and non-ASCII (IDNA) host
// names fail with ErrUnsupportedAddr; strings that are not absolute URLs at
// all fail with ErrInvalidRelayURL.
func NormalizeRelayURL(s string) (string, error) {
	s = stripURLWhitespace(s)
	colon := schemeEnd(s)
	if colon < 0 {
		return "", fmt.Errorf("%w: %q is not an absolute URL; write it with a scheme, e.g. https://relay.example.com", ErrInvalidRelayURL, s)
	}
	scheme := strings.ToLower(s[:colon])
	defaultPort, ok := relaySchemes[scheme]
	if !ok {
		return "", fmt.Errorf("%w: relay URL %q has scheme %q; want http, https, ws or wss", ErrUnsupportedAddr, s, scheme)
	}
	rest := strings.TrimLeft(s[colon+1:], `/\`)
	authEnd := strings.IndexAny(rest, `/\?#`)
	if authEnd < 0 {
		authEnd = len(rest)
	}
	authority, tail := rest[:authEnd], rest[authEnd:]
	if strings.Contains(authority, "@") {
		return "", fmt.Errorf("%w: relay URL with user info", ErrUnsupportedAddr)
	}
	rawHost, rawPort := splitHostPort(authority)
	host, err := parseURLHost(rawHost)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if rawPort != nil {
		port, err := parseURLPort(*rawPort)
		if err != nil {
			return "", err
		}
		if port >= 0 && port != defaultPort {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(port))
		}
	}
	writeURLTail(&b, tail)
	return b.String(), nil
}

// relaySchemes maps the accepted schemes to their default ports.
var relaySchemes = map[string]int{"http": 80, "https": 443, "ws": 80, "wss": 443}

// stripURLWhitespace removes leading and trailing C0 controls and spaces and
// every tab and newline, as the WHATWG parser does before anything else.
func stripURLWhitespace(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	return s
}

// schemeEnd returns the index of the colon ending a valid scheme, or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isASCIIAlpha(c):
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

func isASCIIAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// splitHostPort splits at the first colon outside square brackets. The
// port is nil when there is no colon.
func splitHostPort(authority string) (string, *string) {
	inBrackets := false
	for i := 0; i < len(authority); i++ {
		switch authority[i] {
		case '[':
			inBrackets = true
		case ']':
			inBrackets = false
		case ':':
			if !inBrackets {
				port := authority[i+1:]
				return authority[:i], &port
			}
		}
	}
	return authority, nil
}

// parseURLPort returns the port, or -1 for an empty port string (which
// WHATWG treats as no port).
func parseURLPort(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	port := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: invalid port %q", ErrInvalidRelayURL, s)
		}
		port = port*10 + int(c-'0')
		if port > 65535 {
			return 0, fmt.Errorf("%w: port %q out of range", ErrInvalidRelayURL, s)
		}
	}
	return port, nil
}

func parseURLHost(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: empty host", ErrInvalidRelayURL)
	}
	if raw[0] == '[' {
		if len(raw) < 2 || raw[len(raw)-1] != ']' {
			return "", fmt.Errorf("%w: unterminated IPv6 literal %q", ErrInvalidRelayURL, raw)
		}
		return parseURLIPv6(raw[1 : len(raw)-1])
	}
	host := percentDecode(raw)
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return "", fmt.Errorf("%w: non-ASCII (internationalised) relay host %q; use its xn-- form", ErrUnsupportedAddr, raw)
		}
	}
	host = strings.ToLower(host)
	if host == "" {
		return "", fmt.Errorf("%w: empty host", ErrInvalidRelayURL)
	}
	for i := 0; i < len(host); i++ {
		if isForbiddenDomainByte(host[i]) {
			return "", fmt.Errorf("%w: character %q not allowed in host %q", ErrInvalidRelayURL, host[i], raw)
		}
	}
	if endsInANumber(host) {
		addr, ok := parseURLIPv4(host)
		if !ok {
			return "", fmt.Errorf("%w: invalid IPv4 address %q", ErrInvalidRelayURL, raw)
		}
		return addr, nil
	}
	return host, nil
}

// percentDecode decodes %XX sequences; a '%' not followed by two hex digits
// stays literal (and is then refused as a forbidden host character).
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}

// isForbiddenDomainByte is WHATWG's "forbidden domain code point" for ASCII.
func isForbiddenDomainByte(c byte) bool {
	if c <= 0x20 || c == 0x7f {
		return true
	}
	return strings.IndexByte("#%/:<>?@[\\]^|", c) >= 0
}

// endsInANumber is WHATWG's test for whether a host must be parsed as IPv4:
// its last label (ignoring one trailing dot) is decimal digits or 0x-hex.
func endsInANumber(host string) bool {
	labels := strings.Split(host, ".")
	if labels[len(labels)-1] == "" {
		if len(labels) == 1 {
			return false
		}
		labels = labels[:len(labels)-1]
	}
	last := labels[len(labels)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := parseIPv4Number(last)
	return ok
}

// parseIPv4Number parses one WHATWG IPv4 part: 0x-prefixed hex, 0-prefixed
// octal, or decimal. Values saturate above 2^32, which callers reject.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && isHexDigit(c):
			d = uint64(unhex(c))
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 1<<32 {
			v = 1 << 33 // saturate; still invalid, never overflows
		}
	}
	return v, true
}

func parseURLIPv4(host string) (string, bool) {
	parts := strings.Split(host, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return "", false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return "", false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return "", false
		}
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return "", false
	}
	v := last
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return fmt.Sprintf("%d.%d.%d.%d", byte(v>>24), byte(v>>16), byte(v>>8), byte(v)), true
}

// parseURLIPv6 parses the text between square brackets and returns it in
// WHATWG form: lowercase hex, the first longest run of two or more zero
// pieces compressed, and no dotted-quad tail.
func parseURLIPv6(s string) (string, error) {
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return "", fmt.Errorf("%w: invalid IPv6 address [%s]", ErrInvalidRelayURL, s)
	}
	return "[" + formatWHATWGIPv6(addr.As16()) + "]", nil
}

func formatWHATWGIPv6(a [16]byte) string {
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestStart, bestLen := -1, 1
	for i := 0; i < 8; {
		if pieces[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestStart, bestLen = i, j-i
		}
		i = j
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if i == bestStart {
			b.WriteString("::")
			i += bestLen - 1
			continue
		}
		if i > 0 && i != bestStart+bestLen {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(pieces[i]), 16))
	}
	return b.String()
}

// writeURLTail serialises path, query and fragment the way WHATWG does for
// special schemes.
func writeURLTail(b *strings.Builder, tail string) {
	var query, fragment *string
	if i := strings.IndexByte(tail, '#'); i >= 0 {
		f := tail[i+1:]
		fragment, tail = &f, tail[:i]
	}
	if i := strings.IndexByte(tail, '?'); i >= 0 {
		q := tail[i+1:]
		query, tail = &q, tail[:i]
	}
	writeURLPath(b, tail)
	if query != nil {
		b.WriteByte('?')
		percentEncode(b, *query, inSpecialQuerySet)
	}
	if fragment != nil {
		b.WriteByte('#')
		percentEncode(b, *fragment, inFragmentSet)
	}
}

func writeURLPath(b *strings.Builder, p string) {
	if p != "" && (p[0] == '/' || p[0] == '\\') {
		p = p[1:]
	}
	segments := splitPath(p)
	var out []string
	for i, seg := range segments {
		last := i == len(segments)-1
		switch {
		case isDoubleDotSegment(seg):
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case isSingleDotSegment(seg):
			if last {
				out = append(out, "")
			}
		default:
			var sb strings.Builder
			percentEncode(&sb, seg, inPathSet)
			out = append(out, sb.String())
		}
	}
	for _, seg := range out {
		b.WriteByte('/')
		b.WriteString(seg)
	}
}

// splitPath splits on both '/' and '\' (equivalent for special schemes).
// An empty path yields one empty segment, which serialises as "/".
func splitPath(p string) []string {
	return strings.Split(strings.ReplaceAll(p, `\`, "/"), "/")
}

func isSingleDotSegment(seg string) bool {
	return seg == "." || strings.EqualFold(seg, "%2e")
}

func isDoubleDotSegment(seg string) bool {
	switch strings.ToLower(seg) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// WHATWG percent-encode sets. All of them include C0 controls, DEL and every
// non-ASCII byte.
func inFragmentSet(c byte) bool {
	return c < 0x20 || c >= 0x7f || strings.IndexByte(" \"<>`", c) >= 0
}

func inQuerySet(c byte) bool {
	return c < 0x20 || c >= 0x7f || strings.IndexByte(" \"#<>", c) >= 0
}

func inSpecialQuerySet(c byte) bool { return inQuerySet(c) || c == '\'' }

func inPathSet(c byte) bool { return inQuerySet(c) || strings.IndexByte("?`{}", c) >= 0 }

func percentEncode(b *strings.Builder, s string, inSet func(byte) bool) {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inSet(c) {
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&15])
			continue
		}
		b.WriteByte(c)
	}
}
