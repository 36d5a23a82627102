package lookup

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/alkdev/irohspoke/identity"
)

// TXT attribute keys iroh publishes, one "key=value" per TXT record.
const (
	AttrRelay    = "relay"
	AttrAddr     = "addr"
	AttrUserData = "user-data"

	// MaxUserDataLen is iroh's limit: a 255-byte character-string minus
	// the "user-data=" prefix.
	MaxUserDataLen = 245
)

// EndpointInfo is what an endpoint publishes about itself, and what a
// lookup returns, as iroh's EndpointInfo: its address (the library's one
// address type: ID, home relay URLs, direct addresses) plus optional
// application data. Dial takes info.EndpointAddr as it is.
type EndpointInfo struct {
	identity.EndpointAddr
	UserData string
}

// String shows the address and the user data; the embedded address's
// String alone would be a ticket without it.
func (i EndpointInfo) String() string {
	return fmt.Sprintf("%s relays=%v addrs=%v user-data=%q", i.ID.Short(), i.Relays, i.Addrs, i.UserData)
}

// TXTAttrs returns the TXT record strings iroh would publish for i: relay
// URLs (normalised, sorted), then socket addresses (IPv4 before IPv6,
// sorted, deduplicated), then user data. Only keys iroh knows are
// emitted, because Rust's parser fails a whole lookup on an unknown key.
func (i EndpointInfo) TXTAttrs() ([]string, error) {
	if len(i.UserData) > MaxUserDataLen {
		return nil, fmt.Errorf("%w: %d bytes", ErrUserDataTooLong, len(i.UserData))
	}
	relays := make([]string, 0, len(i.Relays))
	for _, u := range i.Relays {
		n, err := identity.NormalizeRelayURL(u)
		if err != nil {
			return nil, fmt.Errorf("lookup: relay URL %q: %w", u, err)
		}
		relays = append(relays, n)
	}
	slices.Sort(relays)
	relays = slices.Compact(relays)
	addrs := make([]netip.AddrPort, 0, len(i.Addrs))
	for _, ap := range i.Addrs {
		if !ap.IsValid() {
			continue
		}
		// Rust prints and parses neither zones nor mapped forms usefully.
		addrs = append(addrs, netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port()))
	}
	slices.SortFunc(addrs, compareSocketAddr)
	addrs = slices.Compact(addrs)
	out := make([]string, 0, len(relays)+len(addrs)+1)
	for _, r := range relays {
		out = append(out, AttrRelay+"="+r)
	}
	for _, a := range addrs {
		out = append(out, AttrAddr+"="+a.String())
	}
	if i.UserData != "" {
		out = append(out, AttrUserData+"="+i.UserData)
	}
	return out, nil
}

// compareSocketAddr orders like Rust's SocketAddr: IPv4 first, then by
// address, then port.
func compareSocketAddr(a, b netip.AddrPort) int {
	if a.Addr().Is4() != b.Addr().Is4() {
		if a.Addr().Is4() {
			return -1
		}
		return 1
	}
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Port(), b.Port())
}

// ParseTXTAttrs builds the EndpointInfo for id from TXT record strings
// (each record's character-strings already concatenated).
//
// Like Rust, the value is the text between the first and the second '='
// (anything after a second '=' is dropped), unparsable relay URLs and
// addresses are skipped, custom transport addresses are skipped (irohspoke
// has no custom transports), and only the first user-data counts (and only
// if it is at most MaxUserDataLen bytes). Unlike Rust, which fails the
// whole lookup on a record without '=' or with an unknown key, this parser
// ignores such records, so a newer publisher's extra keys do not make an
// endpoint unreachable.
func ParseTXTAttrs(id identity.EndpointID, records []string) EndpointInfo {
	info := EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id}}
	seenUserData := false
	for _, rec := range records {
		key, value, ok := splitAttr(rec)
		if !ok {
			continue
		}
		switch key {
		case AttrRelay:
			if u, err := identity.NormalizeRelayURL(value); err == nil && !slices.Contains(info.Relays, u) {
				info.Relays = append(info.Relays, u)
			}
		case AttrAddr:
			if ap, err := netip.ParseAddrPort(value); err == nil && ap.Addr().Zone() == "" {
				ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
				if !slices.Contains(info.Addrs, ap) {
					info.Addrs = append(info.Addrs, ap)
				}
			}
		case AttrUserData:
			if !seenUserData {
				seenUserData = true
				if len(value) <= MaxUserDataLen {
					info.UserData = value
				}
			}
		}
	}
	return info
}

// splitAttr applies Rust's split rule: key before the first '=', value up
// to the second.
func splitAttr(rec string) (key, value string, ok bool) {
	key, rest, ok := strings.Cut(rec, "=")
	if !ok {
		return "", "", false
	}
	value, _, _ = strings.Cut(rest, "=")
	return key, value, true
}
