package netmon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/alkdev/irohspoke/nat/gateway"
)

// Link and address dump parsing (linux/rtnetlink.h, linux/if_link.h,
// linux/if_addr.h). Plain functions over bytes, so they build and are
// fuzzed on every OS; the framing is gateway's.
const (
	rtmNewLink   = 16
	rtmGetLink   = 18
	rtmNewAddr   = 20
	rtmGetAddr   = 22
	rtmGetRoute  = 26
	ifinfomsgLen = 16
	ifaddrmsgLen = 8
	iflaIfname   = 3
	ifaAddress   = 1
	ifaLocal     = 2
	iffUp        = 0x1
	afInet       = 2
	afInet6      = 10
)

// link is one interface of an RTM_GETLINK dump.
type link struct {
	index int
	name  string
	up    bool
}

// ifAddr is one address of an RTM_GETADDR dump.
type ifAddr struct {
	index  int
	prefix netip.Prefix
}

// parseLinkDump lists the interfaces of an RTM_GETLINK dump, in order.
func parseLinkDump(b []byte) ([]link, error) {
	var links []link
	err := eachBody(b, rtmNewLink, ifinfomsgLen, func(body []byte) error {
		l := link{
			index: int(int32(binary.NativeEndian.Uint32(body[4:8]))),
			up:    binary.NativeEndian.Uint32(body[8:12])&iffUp != 0,
		}
		err := gateway.EachAttr(body[ifinfomsgLen:], func(typ uint16, v []byte) error {
			if typ == iflaIfname {
				if i := bytes.IndexByte(v, 0); i >= 0 {
					v = v[:i]
				}
				l.name = string(v)
			}
			return nil
		})
		links = append(links, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	return links, nil
}

// parseAddrDump lists the IPv4 and IPv6 addresses of an RTM_GETADDR dump,
// in order. The address is IFA_LOCAL where there is one (on a
// point-to-point link IFA_ADDRESS is the peer's), else IFA_ADDRESS, as
// net.Interface.Addrs reads it.
func parseAddrDump(b []byte) ([]ifAddr, error) {
	var addrs []ifAddr
	err := eachBody(b, rtmNewAddr, ifaddrmsgLen, func(body []byte) error {
		family, prefixLen := body[0], int(body[1])
		if family != afInet && family != afInet6 {
			return nil
		}
		var local, address []byte
		err := gateway.EachAttr(body[ifaddrmsgLen:], func(typ uint16, v []byte) error {
			switch {
			case typ == ifaLocal && local == nil:
				local = v
			case typ == ifaAddress && address == nil:
				address = v
			}
			return nil
		})
		if err != nil {
			return err
		}
		raw := local
		if raw == nil {
			raw = address
		}
		if raw == nil {
			return nil
		}
		a, ok := netip.AddrFromSlice(raw)
		if !ok || (family == afInet) != a.Is4() {
			return fmt.Errorf("%w: address of %d bytes in family %d", gateway.ErrMalformed, len(raw), family)
		}
		if prefixLen > a.BitLen() {
			prefixLen = 0 // as net.CIDRMask's nil mask sizes
		}
		index := int(binary.NativeEndian.Uint32(body[4:8]))
		addrs = append(addrs, ifAddr{index: index, prefix: netip.PrefixFrom(a.Unmap(), prefixLen)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return addrs, nil
}

// eachBody calls fn with the body of each message of type typ in a dump,
// refusing one shorter than its fixed header.
func eachBody(b []byte, typ uint16, fixed int, fn func(body []byte) error) error {
	_, err := gateway.EachMessage(b, func(m gateway.NetlinkMessage) error {
		if m.Type != typ {
			return nil
		}
		if len(m.Body) < fixed {
			return fmt.Errorf("%w: message of type %d with %d bytes", gateway.ErrMalformed, typ, len(m.Body))
		}
		return fn(m.Body)
	})
	return err
}

// buildState joins the three dumps into a State, as readStatePortable
// builds it from net.Interfaces.
func buildState(links []link, addrs []ifAddr, routes []gateway.Route) State {
	s := State{Interfaces: make(map[string]Interface, len(links))}
	byIndex := make(map[int]string, len(links))
	for _, l := range links {
		s.Interfaces[l.name] = Interface{Index: l.index, Up: l.up}
		byIndex[l.index] = l.name
	}
	for _, a := range addrs {
		name, ok := byIndex[a.index]
		in := s.Interfaces[name]
		if !ok || in.Index != a.index {
			continue // a link after the link dump, or one whose name a later link took
		}
		in.Addrs = append(in.Addrs, a.prefix)
		s.Interfaces[name] = in
	}
	for _, in := range s.Interfaces {
		sortAddrs(in.Addrs)
	}
	gateway.NameAndSort(routes, byIndex)
	s.DefaultRoutes = routes
	return s
}

func sortAddrs(p []netip.Prefix) {
	slices.SortFunc(p, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
}
