package lookup

import (
	"fmt"
	"strings"
)

// Name limits (RFC 1035 §2.3.4): 253 octets in text form without the
// trailing dot (255 on the wire), 63 per label.
const (
	maxNameTextLen = 253
	// MaxOriginLen is the longest origin under which iroh's names fit:
	// "_iroh." + a 52-character z-base-32 id + "." + origin ≤ 253.
	MaxOriginLen = maxNameTextLen - len(IrohLabel) - 1 - 52 - 1
)

// CheckOrigin reports whether origin can be the zone of iroh records: a
// DNS name (one trailing dot allowed) of labels made of letters, digits,
// '-' and '_', each 1 to 63 octets, and at most MaxOriginLen octets in
// all, so that "_iroh.<z32>.<origin>" is a valid name. The error wraps
// ErrBadOrigin and says which rule failed.
func CheckOrigin(origin string) error {
	name := strings.TrimSuffix(origin, ".")
	if name == "" {
		return fmt.Errorf("%w: empty", ErrBadOrigin)
	}
	if len(name) > MaxOriginLen {
		return fmt.Errorf("%w: %q is %d octets; at most %d fit, since _iroh.<52-char id>.<origin> must stay within %d",
			ErrBadOrigin, shorten(name), len(name), MaxOriginLen, maxNameTextLen)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" {
			return fmt.Errorf("%w: %q has an empty label", ErrBadOrigin, name)
		}
		if len(label) > maxLabelLen {
			return fmt.Errorf("%w: label %q is %d octets, at most %d allowed", ErrBadOrigin, shorten(label), len(label), maxLabelLen)
		}
		if i := strings.IndexFunc(label, notNameChar); i >= 0 {
			return fmt.Errorf("%w: %q contains %q; use letters, digits, '-' and '_' (IDNs in punycode)", ErrBadOrigin, shorten(name), label[i])
		}
	}
	return nil
}

func notNameChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

// shorten keeps error messages readable for absurdly long input.
func shorten(s string) string {
	const keep = 40
	if len(s) <= keep {
		return s
	}
	return s[:keep] + "…"
}
