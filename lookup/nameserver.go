package lookup

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// dnsPort is the DNS port used when a nameserver gives none.
const dnsPort = 53

// Nameserver is a DNS server to ask: a host name or IP address, and a
// port.
type Nameserver struct {
	Host string // host name, or IP address (IPv6 without brackets)
	Port uint16
}

func (n Nameserver) String() string { return net.JoinHostPort(n.Host, strconv.Itoa(int(n.Port))) }

// ParseNameserver accepts "IP", "IP:port", "[IPv6]:port", "host" and
// "host:port"; the port defaults to 53. Host names are checked for syntax
// here and resolved (with Go's resolver) when a lookup needs them.
func ParseNameserver(s string) (Nameserver, error) {
	bad := func(why string) (Nameserver, error) {
		return Nameserver{}, fmt.Errorf("%w: %q: %s; want IP, IP:PORT, [IPv6]:PORT, HOST or HOST:PORT", ErrBadNameserver, shorten(s), why)
	}
	if a, ok := bareIP(s); ok {
		return Nameserver{Host: a.String(), Port: dnsPort}, nil
	}
	host, portStr := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, portStr = h, p
	} else if strings.ContainsAny(s, "[]") || strings.Count(s, ":") > 0 {
		return bad(err.Error())
	}
	port := uint64(dnsPort)
	if portStr != "" {
		var err error
		if port, err = strconv.ParseUint(portStr, 10, 16); err != nil || port == 0 {
			return bad("port must be 1-65535")
		}
	}
	if a, ok := bareIP(host); ok {
		return Nameserver{Host: a.String(), Port: uint16(port)}, nil
	}
	if err := checkHostName(host); err != nil {
		return bad(err.Error())
	}
	return Nameserver{Host: host, Port: uint16(port)}, nil
}

// bareIP parses an IP address, IPv6 with or without brackets; a zone may
// not contain the characters that delimit host and port.
func bareIP(s string) (netip.Addr, bool) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || strings.ContainsAny(a.Zone(), "[]:%") {
		return netip.Addr{}, false
	}
	return a, true
}

// checkHostName applies the origin rules to a nameserver's host name
// (without the iroh-specific length budget).
func checkHostName(host string) error {
	name := strings.TrimSuffix(host, ".")
	switch {
	case name == "":
		return fmt.Errorf("empty host")
	case len(name) > maxNameTextLen:
		return fmt.Errorf("host name over %d octets", maxNameTextLen)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > maxLabelLen || strings.IndexFunc(label, notNameChar) >= 0 {
			return fmt.Errorf("invalid host name")
		}
	}
	return nil
}

// addrs resolves n to socket addresses (itself, for an IP).
func (n Nameserver) addrs(ctx context.Context) ([]netip.AddrPort, error) {
	if a, err := netip.ParseAddr(n.Host); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(a, n.Port)}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", n.Host)
	if err != nil {
		return nil, fmt.Errorf("lookup: nameserver %s: %w", n, err)
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		out = append(out, netip.AddrPortFrom(ip.Unmap(), n.Port))
	}
	return out, nil
}
