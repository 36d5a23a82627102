package identity

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/alkdev/irohspoke/internal/postcard"
)

// EndpointAddr is iroh 1.0's EndpointAddr: an endpoint id plus the
// addresses it can be reached at (relay URLs, direct UDP addresses). It is
// the one address type of the library: dial targets, tickets and lookup
// results are all EndpointAddrs. Only the ID is required; an endpoint with
// address lookup finds the rest.
//
// Its ticket form (iroh's EndpointTicket) is "endpoint" followed by
// lowercase RFC 4648 base32 (no padding) of the postcard encoding (see
// String, ParseTicket and MarshalBinary). iroh stores the addresses in an
// ordered set, so an EndpointAddr returned by ParseTicket has each list
// sorted in iroh's order and free of duplicates, and String/MarshalBinary
// sort, normalise and de-duplicate before encoding. Zones on IPv6
// addresses are dropped: the wire format has no room for them.
type EndpointAddr struct {
	ID     EndpointID
	Relays []string         // normalised relay URLs (see NormalizeRelayURL)
	Addrs  []netip.AddrPort // direct IPv4 and IPv6 addresses
	Custom []CustomAddr     // custom transport addresses, kept for round trips
}

// CustomAddr is an address for a custom (application-defined) transport:
// iroh's TransportAddr::Custom.
type CustomAddr struct {
	ID   uint64
	Data []byte
}

const ticketPrefix = "endpoint"

// RelayURL is the first relay URL, or "" if none is known. iroh keeps
// several; a dialer uses the first.
func (t EndpointAddr) RelayURL() string {
	if len(t.Relays) == 0 {
		return ""
	}
	return t.Relays[0]
}

// IsEmpty reports whether only the ID is known.
func (t EndpointAddr) IsEmpty() bool {
	return len(t.Relays) == 0 && len(t.Addrs) == 0 && len(t.Custom) == 0
}

// Wire tags.
const (
	ticketVariant1 = 0 // TicketWireFormat::Variant1, the only one in iroh 1.0

	addrRelay  = 0 // TransportAddr::Relay
	addrIP     = 1 // TransportAddr::Ip
	addrCustom = 2 // TransportAddr::Custom

	socketV4 = 0
	socketV6 = 1

	// iroh 1.0.0–1.0.3 store custom address bytes in an enum whose derived
	// serde form is part of the wire format: Inline{size u8, data [u8; 30]}
	// for up to 30 bytes, Heap(bytes) above. (iroh's main branch, after
	// 1.0.3, switched to a plain byte string; that newer form is not
	// decoded here.)
	customInline    = 0
	customHeap      = 1
	customInlineMax = 30
)

// ParseTicket decodes an iroh EndpointTicket string. The decisions mirror
// iroh-tickets 1.0.0 (strip the exact lowercase prefix, upper-case the rest,
// data-encoding BASE32_NOPAD, postcard::from_bytes):
//
//   - the "endpoint" prefix must be lowercase; the base32 part may be any
//     case, mixed included, since iroh upper-cases it before decoding;
//   - base32 is strict: no padding, no lengths an encoder cannot produce,
//     and the unused low bits of the last symbol must be zero;
//   - bytes after a complete postcard value are ignored, as
//     postcard::from_bytes ignores them;
//   - postcard varints follow postcard's rules (see internal/postcard):
//     over-long zero-padded forms are accepted, values too large for the
//     field are not;
//   - unknown wire-format, address or socket variants, truncation, invalid
//     UTF-8 and invalid Ed25519 points are refused;
//   - relay URLs are normalised like iroh's url crate would; URLs iroh
//     accepts but irohspoke cannot use (see NormalizeRelayURL) are refused
//     with ErrUnsupportedAddr as well as ErrInvalidTicket;
//   - an inline custom address whose size byte exceeds 30 is refused (iroh
//     1.0.x decodes it and then panics on use); a non-canonical custom
//     encoding (heap form for ≤30 bytes, or non-zero inline padding) is
//     accepted and re-encoded canonically.
//
// All errors wrap ErrInvalidTicket.
func ParseTicket(s string) (EndpointAddr, error) {
	rest, ok := strings.CutPrefix(s, ticketPrefix)
	if !ok {
		return EndpointAddr{}, fmt.Errorf("%w: missing %q prefix", ErrInvalidTicket, ticketPrefix)
	}
	raw, err := base32Std.Decode(rest)
	if err != nil {
		return EndpointAddr{}, fmt.Errorf("%w: %w", ErrInvalidTicket, err)
	}
	return unmarshalTicket(raw)
}

// UnmarshalTicketBinary decodes the postcard bytes of a ticket (the output
// of MarshalBinary) with the rules of ParseTicket.
func UnmarshalTicketBinary(b []byte) (EndpointAddr, error) { return unmarshalTicket(b) }

func unmarshalTicket(b []byte) (EndpointAddr, error) {
	r := postcard.NewReader(b)
	variant, err := r.U32()
	if err != nil {
		return EndpointAddr{}, postcardError(r, "wire format", err)
	}
	if variant != ticketVariant1 {
		return EndpointAddr{}, fmt.Errorf("%w: unknown wire format variant %d", ErrInvalidTicket, variant)
	}
	rawID, err := r.Take(32)
	if err != nil {
		return EndpointAddr{}, postcardError(r, "endpoint id", err)
	}
	var t EndpointAddr
	if t.ID, err = EndpointIDFromBytes(rawID); err != nil {
		return EndpointAddr{}, fmt.Errorf("%w: %w", ErrInvalidTicket, err)
	}
	count, err := r.U64()
	if err != nil {
		return EndpointAddr{}, postcardError(r, "address count", err)
	}
	// Every address takes at least two bytes, so a count beyond that is
	// truncated input; checking first avoids looping on a forged count.
	if count > uint64(r.Remaining()) {
		return EndpointAddr{}, postcardError(r, "address list", postcard.ErrTruncated)
	}
	for range count {
		if err := t.readAddr(r); err != nil {
			return EndpointAddr{}, err
		}
	}
	t.canonicalize()
	return t, nil
}

func (t *EndpointAddr) readAddr(r *postcard.Reader) error {
	kind, err := r.U32()
	if err != nil {
		return postcardError(r, "address variant", err)
	}
	switch kind {
	case addrRelay:
		raw, err := r.Str()
		if err != nil {
			return postcardError(r, "relay URL", err)
		}
		url, err := NormalizeRelayURL(raw)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidTicket, err)
		}
		t.Relays = append(t.Relays, url)
	case addrIP:
		ap, err := readSocketAddr(r)
		if err != nil {
			return err
		}
		t.Addrs = append(t.Addrs, ap)
	case addrCustom:
		c, err := readCustomAddr(r)
		if err != nil {
			return err
		}
		t.Custom = append(t.Custom, c)
	default:
		return fmt.Errorf("%w: unknown address variant %d", ErrInvalidTicket, kind)
	}
	return nil
}

func readSocketAddr(r *postcard.Reader) (netip.AddrPort, error) {
	family, err := r.U32()
	if err != nil {
		return netip.AddrPort{}, postcardError(r, "socket address variant", err)
	}
	var addr netip.Addr
	switch family {
	case socketV4:
		b, err := r.Take(4)
		if err != nil {
			return netip.AddrPort{}, postcardError(r, "IPv4 address", err)
		}
		addr = netip.AddrFrom4([4]byte(b))
	case socketV6:
		b, err := r.Take(16)
		if err != nil {
			return netip.AddrPort{}, postcardError(r, "IPv6 address", err)
		}
		addr = netip.AddrFrom16([16]byte(b))
	default:
		return netip.AddrPort{}, fmt.Errorf("%w: unknown socket address variant %d", ErrInvalidTicket, family)
	}
	port, err := r.U16()
	if err != nil {
		return netip.AddrPort{}, postcardError(r, "port", err)
	}
	return netip.AddrPortFrom(addr, port), nil
}

func readCustomAddr(r *postcard.Reader) (CustomAddr, error) {
	id, err := r.U64()
	if err != nil {
		return CustomAddr{}, postcardError(r, "custom address id", err)
	}
	form, err := r.U32()
	if err != nil {
		return CustomAddr{}, postcardError(r, "custom address form", err)
	}
	switch form {
	case customInline:
		size, err := r.Byte()
		if err != nil {
			return CustomAddr{}, postcardError(r, "custom address size", err)
		}
		buf, err := r.Take(customInlineMax)
		if err != nil {
			return CustomAddr{}, postcardError(r, "custom address data", err)
		}
		if size > customInlineMax {
			return CustomAddr{}, fmt.Errorf("%w: inline custom address size %d exceeds %d", ErrInvalidTicket, size, customInlineMax)
		}
		return CustomAddr{ID: id, Data: bytes.Clone(buf[:size])}, nil
	case customHeap:
		data, err := r.Bytes()
		if err != nil {
			return CustomAddr{}, postcardError(r, "custom address data", err)
		}
		return CustomAddr{ID: id, Data: bytes.Clone(data)}, nil
	default:
		return CustomAddr{}, fmt.Errorf("%w: unknown custom address form %d", ErrInvalidTicket, form)
	}
}

// String returns the ticket in iroh's text form, byte-identical with
// iroh-tickets. If the ticket cannot be encoded (see MarshalBinary) it
// returns a diagnostic that no parser accepts.
func (t EndpointAddr) String() string {
	b, err := t.MarshalBinary()
	if err != nil {
		return fmt.Sprintf("<invalid ticket: %v>", err)
	}
	return ticketPrefix + base32Std.Encode(b)
}

// MarshalBinary returns the postcard encoding iroh 1.0 produces for the
// same address set. It fails for an ID that is not a valid point, a relay
// URL NormalizeRelayURL rejects, or an invalid netip.AddrPort.
func (t EndpointAddr) MarshalBinary() ([]byte, error) {
	if _, err := EndpointIDFromBytes(t.ID[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTicket, err)
	}
	c := EndpointAddr{ID: t.ID, Custom: t.Custom}
	for _, u := range t.Relays {
		n, err := NormalizeRelayURL(u)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidTicket, err)
		}
		c.Relays = append(c.Relays, n)
	}
	for _, ap := range t.Addrs {
		if !ap.IsValid() {
			return nil, fmt.Errorf("%w: invalid IP address %v", ErrInvalidTicket, ap)
		}
		c.Addrs = append(c.Addrs, netip.AddrPortFrom(ap.Addr().WithZone(""), ap.Port()))
	}
	c.Custom = slices.Clone(t.Custom)
	c.canonicalize()

	out := make([]byte, 0, 64)
	out = postcard.AppendVarint(out, ticketVariant1)
	out = append(out, c.ID[:]...)
	out = postcard.AppendVarint(out, uint64(len(c.Relays)+len(c.Addrs)+len(c.Custom)))
	for _, u := range c.Relays {
		out = postcard.AppendVarint(out, addrRelay)
		out = postcard.AppendBytes(out, []byte(u))
	}
	for _, ap := range c.Addrs {
		out = postcard.AppendVarint(out, addrIP)
		if ap.Addr().Is4() {
			ip := ap.Addr().As4()
			out = postcard.AppendVarint(out, socketV4)
			out = append(out, ip[:]...)
		} else {
			ip := ap.Addr().As16()
			out = postcard.AppendVarint(out, socketV6)
			out = append(out, ip[:]...)
		}
		out = postcard.AppendVarint(out, uint64(ap.Port()))
	}
	for _, ca := range c.Custom {
		out = postcard.AppendVarint(out, addrCustom)
		out = postcard.AppendVarint(out, ca.ID)
		if len(ca.Data) <= customInlineMax {
			out = postcard.AppendVarint(out, customInline)
			out = append(out, byte(len(ca.Data)))
			out = append(out, ca.Data...)
			out = append(out, make([]byte, customInlineMax-len(ca.Data))...)
		} else {
			out = postcard.AppendVarint(out, customHeap)
			out = postcard.AppendBytes(out, ca.Data)
		}
	}
	return out, nil
}

// canonicalize sorts each list into iroh's set order and drops duplicates.
// Relay URLs order by their serialised string. Socket addresses order IPv4
// before IPv6, then by address bytes, then port, which is exactly
// netip.AddrPort.Compare for zone-free addresses.
func (t *EndpointAddr) canonicalize() {
	slices.Sort(t.Relays)
	t.Relays = slices.Compact(t.Relays)
	slices.SortFunc(t.Addrs, netip.AddrPort.Compare)
	t.Addrs = slices.Compact(t.Addrs)
	slices.SortFunc(t.Custom, compareCustomAddr)
	t.Custom = slices.CompactFunc(t.Custom, func(a, b CustomAddr) bool { return compareCustomAddr(a, b) == 0 })
	if len(t.Relays) == 0 {
		t.Relays = nil
	}
	if len(t.Addrs) == 0 {
		t.Addrs = nil
	}
	if len(t.Custom) == 0 {
		t.Custom = nil
	}
}

// compareCustomAddr is the derived Rust order of iroh's CustomAddr: by id,
// then inline storage (≤30 bytes) before heap storage; inline values compare
// by length first, then bytes; heap values compare lexicographically.
func compareCustomAddr(a, b CustomAddr) int {
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	aInline, bInline := len(a.Data) <= customInlineMax, len(b.Data) <= customInlineMax
	switch {
	case aInline && !bInline:
		return -1
	case !aInline && bInline:
		return 1
	case aInline:
		if c := cmp.Compare(len(a.Data), len(b.Data)); c != 0 {
			return c
		}
	}
	return bytes.Compare(a.Data, b.Data)
}

// UnmarshalBinary decodes postcard bytes; see UnmarshalTicketBinary.
func (t *EndpointAddr) UnmarshalBinary(b []byte) error {
	parsed, err := unmarshalTicket(b)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// MarshalText returns the ticket string, so tickets appear as strings in
// JSON and other text formats.
func (t EndpointAddr) MarshalText() ([]byte, error) {
	b, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return []byte(ticketPrefix + base32Std.Encode(b)), nil
}

// UnmarshalText parses a ticket string; see ParseTicket.
func (t *EndpointAddr) UnmarshalText(text []byte) error {
	parsed, err := ParseTicket(string(text))
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}
