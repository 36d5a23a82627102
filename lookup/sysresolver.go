package lookup

import (
	"errors"
	"net"
	"net/netip"
)

// SystemDNSResolver returns a resolver for origin that asks the system's
// nameservers, as iroh's default resolver does (hickory's
// read_system_conf): those listed in /etc/resolv.conf, read at every
// lookup so that a network namespace's own file ("ip netns exec"
// bind-mounts /etc/netns/<ns>/resolv.conf there) and later edits count.
// Without a readable file or any nameserver line (Windows, say), it uses
// Go's resolver. It refuses an invalid origin (CheckOrigin).
func SystemDNSResolver(origin string) (*DNSResolver, error) {
	if err := CheckOrigin(origin); err != nil {
		return nil, err
	}
	return systemResolver(origin), nil
}

func systemResolver(origin string) *DNSResolver {
	return &DNSResolver{Origin: origin, system: &systemConf{path: systemResolvConf, port: dnsPort}}
}

// systemConf says where the system's nameservers are listed.
type systemConf struct {
	path string
	port uint16 // tests serve DNS on another port than 53
}

// nameservers reads the file; nil means "use Go's resolver".
func (c *systemConf) nameservers() []netip.AddrPort {
	servers, err := readResolvConf(c.path, c.port)
	if err != nil || len(servers) == 0 {
		return nil
	}
	return servers
}

// goLookupTXT asks Go's resolver; each record's strings come back
// concatenated, as ParseTXTAttrs wants them.
var goLookupTXT = net.DefaultResolver.LookupTXT

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
