package lookup

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"os"
	"strings"
)

const (
	// systemResolvConf is read at every lookup: "ip netns exec" bind-mounts
	// /etc/netns/<ns>/resolv.conf over it, and DHCP rewrites it.
	systemResolvConf = "/etc/resolv.conf"
	// maxNameservers: glibc and Go use at most three (MAXNS).
	maxNameservers  = 3
	maxResolvConfSz = 64 << 10
)

// readResolvConf returns the nameservers listed in the file at path.
func readResolvConf(path string, port uint16) ([]netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResolvConfSz))
	if err != nil {
		return nil, err
	}
	return parseResolvConf(data, port), nil
}

// parseResolvConf returns the first three valid "nameserver ADDR" lines of
// a resolv.conf, with port. Other options (search, ndots, ...) do not
// matter for iroh's names, which are fully qualified.
func parseResolvConf(data []byte, port uint16) []netip.AddrPort {
	var out []netip.AddrPort
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxResolvConfSz)
	for sc.Scan() && len(out) < maxNameservers {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || fields[0] != "nameserver" {
			continue // comments (# or ;) included
		}
		a, err := netip.ParseAddr(fields[1])
		if err != nil {
			continue
		}
		out = append(out, netip.AddrPortFrom(a.Unmap(), port))
	}
	return out
}
