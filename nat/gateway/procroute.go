package gateway

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

const (
	rtfUp       = 0x1
	rtfGateway  = 0x2
	maxProcSize = 1 << 20
)

// ParseProcRoute extracts IPv4 default routes through a gateway from the
// text of /proc/net/route, whose addresses are hexadecimal in host byte
// order.
func ParseProcRoute(b []byte) ([]Route, error) {
	if len(b) > maxProcSize {
		return nil, fmt.Errorf("%w: %d bytes of /proc/net/route", ErrMalformed, len(b))
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	var routes []Route
	for line := 0; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if line == 0 {
			if len(f) < 8 || f[0] != "Iface" {
				return nil, fmt.Errorf("%w: /proc/net/route header %q", ErrMalformed, sc.Text())
			}
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("%w: /proc/net/route line %q", ErrMalformed, sc.Text())
		}
		dst, err1 := hexWord(f[1])
		gw, err2 := hexWord(f[2])
		flags, err3 := strconv.ParseUint(f[3], 16, 16)
		metric, err4 := strconv.ParseUint(f[6], 10, 32)
		mask, err5 := hexWord(f[7])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil {
			return nil, fmt.Errorf("%w: /proc/net/route line %q", ErrMalformed, sc.Text())
		}
		if dst != 0 || mask != 0 || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || gw == 0 {
			continue
		}
		var a [4]byte
		binary.NativeEndian.PutUint32(a[:], gw)
		routes = append(routes, Route{Gateway: netip.AddrFrom4(a), Iface: f[0], Metric: uint32(metric)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return routes, nil
}

func hexWord(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 16, 32)
	return uint32(v), err
}
