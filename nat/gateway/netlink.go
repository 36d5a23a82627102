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
	var routes []Route
	_, err := EachMessage(b, func(m NetlinkMessage) error {
		if m.Type != rtmNewRoute {
			return nil
		}
		r, ok, err := parseRoute(m.Body)
		if ok {
			routes = append(routes, r)
		}
		return err
	})
	if err != nil {
		return nil, err
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
	err := EachAttr(b[rtmsgLen:], func(t uint16, v []byte) error {
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
