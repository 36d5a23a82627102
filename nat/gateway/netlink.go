package gateway

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Netlink route constants (linux/netlink.h, linux/rtnetlink.h); defined
// here so the parser builds on every OS.
const (
	nlmsgHdrLen  = 16
	rtmsgLen     = 12
	nlmsgError   = 2
	nlmsgDone    = 3
	rtmNewRoute  = 24
	rtaDst       = 1
	rtaOIF       = 4
	rtaGateway   = 5
	rtaPriority  = 6
	rtaTable     = 15
	rtTableMain  = 254
	rtnUnicast   = 1
	afInet       = 2
	afInet6      = 10
	maxDumpBytes = 1 << 24
)

// ParseRouteDump extracts the default routes with a gateway from the
// messages of an RTM_GETROUTE dump (in host byte order, as the kernel
// sends them). Routes of other tables, types or prefixes are skipped.
func ParseRouteDump(b []byte) ([]Route, error) {
	if len(b) > maxDumpBytes {
		return nil, fmt.Errorf("%w: dump of %d bytes", ErrMalformed, len(b))
	}
	var routes []Route
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b))
		}
		n := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		if n < nlmsgHdrLen || n > len(b) {
			return nil, fmt.Errorf("%w: message length %d of %d", ErrMalformed, n, len(b))
		}
		switch typ {
		case nlmsgDone:
			return routes, nil
		case nlmsgError:
			return nil, fmt.Errorf("%w: netlink error message", ErrMalformed)
		case rtmNewRoute:
			if r, ok, err := parseRoute(b[nlmsgHdrLen:n]); err != nil {
				return nil, err
			} else if ok {
				routes = append(routes, r)
			}
		}
		b = b[min(align4(n), len(b)):]
	}
	return routes, nil
}

// parseRoute reads one rtmsg and its attributes; ok is false for anything
// but a unicast default route of the main table through a gateway.
func parseRoute(b []byte) (Route, bool, error) {
	if len(b) < rtmsgLen {
		return Route{}, false, fmt.Errorf("%w: short rtmsg", ErrMalformed)
	}
	family, dstLen, table, typ := b[0], b[1], uint32(b[4]), b[7]
	var r Route
	hasDst := false
	err := walkAttrs(b[rtmsgLen:], func(t uint16, v []byte) error {
		switch t {
		case rtaDst:
			hasDst = true
		case rtaTable:
			if len(v) != 4 {
				return fmt.Errorf("%w: RTA_TABLE of %d bytes", ErrMalformed, len(v))
			}
			table = binary.NativeEndian.Uint32(v)
		case rtaOIF:
			if len(v) != 4 {
				return fmt.Errorf("%w: RTA_OIF of %d bytes", ErrMalformed, len(v))
			}
			r.Index = int(int32(binary.NativeEndian.Uint32(v)))
		case rtaPriority:
			if len(v) != 4 {
				return fmt.Errorf("%w: RTA_PRIORITY of %d bytes", ErrMalformed, len(v))
			}
			r.Metric = binary.NativeEndian.Uint32(v)
		case rtaGateway:
			a, ok := netip.AddrFromSlice(v)
			if !ok {
				return fmt.Errorf("%w: RTA_GATEWAY of %d bytes", ErrMalformed, len(v))
			}
			r.Gateway = a.Unmap()
		}
		return nil
	})
	if err != nil {
		return Route{}, false, err
	}
	isDefault := dstLen == 0 && !hasDst && table == rtTableMain && typ == rtnUnicast
	familyOK := (family == afInet && r.Gateway.Is4()) || (family == afInet6 && r.Gateway.Is6())
	return r, isDefault && familyOK && !r.Gateway.IsUnspecified(), nil
}

// walkAttrs calls fn for each rtattr in b.
func walkAttrs(b []byte, fn func(typ uint16, val []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%w: %d trailing attribute bytes", ErrMalformed, len(b))
		}
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < 4 || n > len(b) {
			return fmt.Errorf("%w: attribute length %d of %d", ErrMalformed, n, len(b))
		}
		if err := fn(binary.NativeEndian.Uint16(b[2:4])&0x3fff, b[4:n]); err != nil {
			return err
		}
		b = b[min(align4(n), len(b)):]
	}
	return nil
}

func align4(n int) int { return (n + 3) &^ 3 }
