//go:build linux

package inetlab

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// countersRuleset counts what reaches a public host's servers from the
// lab (eth0; not a delaying proxy's own hop over loopback): new TCP
// connections per service port and UDP datagrams to DNS and QAD. It never
// drops anything.
const countersRuleset = `table inet inetlab {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "eth0" tcp dport 443 ct state new counter comment "https"
		iifname "eth0" tcp dport 80 ct state new counter comment "http"
		iifname "eth0" tcp dport 3340 ct state new counter comment "plain-relay"
		iifname "eth0" tcp dport 53 ct state new counter comment "dns-tcp"
		iifname "eth0" udp dport 53 counter comment "dns-udp"
		iifname "eth0" udp dport 7842 counter comment "qad"
	}
}
`

// Counters are the packet counts of a host's countersRuleset rules, by
// comment: "https", "http", "plain-relay" and "dns-tcp" count new
// connections, "dns-udp" and "qad" datagrams.
type Counters map[string]int

// Total is the sum of every counter.
func (c Counters) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

func (c Counters) String() string {
	var parts []string
	for _, k := range []string{"https", "http", "plain-relay", "dns-tcp", "dns-udp", "qad"} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// readCounters lists the inetlab table of namespace ns.
func readCounters(ctx context.Context, ns string) (Counters, error) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-j", "list", "table", "inet", "inetlab").Output()
	if err != nil {
		return nil, fmt.Errorf("inetlab: reading counters in %s: %w", ns, err)
	}
	return parseCounters(out)
}

// parseCounters reads "nft -j list table" output: every rule with a
// comment and a counter expression.
func parseCounters(listing []byte) (Counters, error) {
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Comment string            `json:"comment"`
				Expr    []json.RawMessage `json:"expr"`
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(listing, &doc); err != nil {
		return nil, fmt.Errorf("inetlab: nft output: %w", err)
	}
	c := Counters{}
	for _, item := range doc.Nftables {
		if item.Rule == nil || item.Rule.Comment == "" {
			continue
		}
		for _, e := range item.Rule.Expr {
			var ce struct {
				Counter *struct {
					Packets int `json:"packets"`
				} `json:"counter"`
			}
			if json.Unmarshal(e, &ce) == nil && ce.Counter != nil {
				c[item.Rule.Comment] += ce.Counter.Packets
			}
		}
	}
	return c, nil
}

// nftApply loads rules into namespace ns.
func nftApply(ns, rules string) error {
	nft := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", ns, err, strings.TrimSpace(string(out)))
	}
	return nil
}
