//go:build linux

package natlab

import "fmt"

// NATKind is how a NAT router maps and filters UDP.
type NATKind int

const (
	// EndpointIndependent is nftables "masquerade" with no flags. Linux
	// NAT keeps the source port whenever the translated 5-tuple is free, so
	// one private socket keeps the same public port for every destination
	// (endpoint-independent mapping, a "port-preserving" NAT). Filtering is
	// conntrack's: only replies from a remote address and port the private
	// socket has sent to come back (address- and port-dependent filtering).
	// This is the "port-restricted cone" that hole punching can cross.
	EndpointIndependent NATKind = iota
	// RandomPort is "masquerade fully-random": every new 5-tuple gets a
	// pseudo-random public port, so each destination sees a different
	// mapping (endpoint-dependent, a "symmetric" or hard NAT).
	RandomPort
)

func (k NATKind) String() string {
	switch k {
	case EndpointIndependent:
		return "endpoint-independent"
	case RandomPort:
		return "random-port"
	}
	return fmt.Sprintf("NATKind(%d)", int(k))
}

// masqueradeFlags are the nftables masquerade flags for a kind.
func (k NATKind) masqueradeFlags() (string, error) {
	switch k {
	case EndpointIndependent:
		return "", nil
	case RandomPort:
		return " fully-random", nil
	}
	return "", fmt.Errorf("%w: %v", ErrBadSpec, k)
}

// natRuleset is the router's whole nftables ruleset: source NAT out of the
// WAN, a forward filter that lets the LAN out and only conntrack replies
// back in (public hosts have no route to the private subnets anyway), and
// an input filter that drops whatever comes from the WAN to the router
// itself, which runs nothing. Without it an unsolicited hole-punching
// probe to the router's public IP:port is accepted locally and leaves a
// conntrack entry for that port; the LAN socket's later packets to the
// prober then get another public port, and endpoint-independent mapping
// breaks exactly when two NATed peers punch toward each other.
func natRuleset(kind NATKind) (string, error) {
	flags, err := kind.masqueradeFlags()
	if err != nil {
		return "", err
	}
	// nft 1.0.6 rejects a closing brace on the same line as a rule, so
	// every statement gets its own line.
	return fmt.Sprintf(`table ip natlab {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "%[1]s" masquerade%[3]s
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "%[2]s" oifname "%[1]s" accept
		iifname "%[1]s" oifname "%[2]s" ct state established,related accept
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "%[1]s" drop
	}
}
`, wanIf, lanIf, flags), nil
}
