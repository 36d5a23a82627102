//go:build linux

package roamlab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

const daemonStartTimeout = 5 * time.Second

// loadRuleset installs a router's nftables rules: natlab's NAT (LAN out
// with masquerade, only conntrack replies in, nothing from the WAN to the
// router itself) plus the chains miniupnpd fills with its forwards
// (miniupnpd's default names), empty unless a daemon runs.
func loadRuleset(r *natlab.Host, kind natlab.NATKind) error {
	flags := ""
	switch kind {
	case natlab.EndpointIndependent:
	case natlab.RandomPort:
		flags = " fully-random"
	default:
		return fmt.Errorf("roamlab: NAT kind %v", kind)
	}
	// nft 1.0.6 wants every statement on a line of its own.
	rules := fmt.Sprintf(`table inet filter {
	chain forward {
		type filter hook forward priority 0; policy drop;
		iifname "%[2]s" oifname "%[1]s" accept
		ct state established,related accept
		jump miniupnpd
	}
	chain miniupnpd {
	}
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "%[1]s" drop
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd
		oifname "%[1]s" masquerade%[3]s
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
`, natlab.RouterWAN, natlab.RouterLAN, flags)
	nft := r.Command(context.Background(), "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		return fmt.Errorf("roamlab: nft on %s: %v: %s", r.Name, err, out)
	}
	return nil
}

// startDaemon runs miniupnpd on the router for its LAN, with UPnP IGD and
// NAT-PMP/PCP, and waits until it listens.
func (r *Router) startDaemon(t testing.TB, dir string) {
	t.Helper()
	base := filepath.Join(dir, r.Name)
	r.leases = base + ".leases"
	conf := strings.Join([]string{
		"ext_ifname=" + natlab.RouterWAN,
		"listening_ip=" + natlab.RouterLAN,
		"http_port=0",
		"enable_natpmp=yes",
		"enable_upnp=yes",
		"lease_file=" + r.leases,
		"uuid=3e2d0c4e-1a6b-4c1f-9d22-5b1e7f1d2a0" + fmt.Sprint(r.LAN.Addr().As4()[1]%10),
		"secure_mode=yes",
		"system_uptime=no",
		"allow 1024-65535 " + r.LAN.String() + " 1024-65535",
		"deny 0-65535 0.0.0.0/0 0-65535",
	}, "\n") + "\n"
	if err := os.WriteFile(base+".conf", []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Daemon = r.StartMiniupnpd(t, base+".conf", base+".pid")
	deadline := time.Now().Add(daemonStartTimeout)
	for {
		log := r.Daemon.Stderr()
		if strings.Contains(log, "Listening for NAT-PMP/PCP traffic") && strings.Contains(log, "HTTP listening on port") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("roamlab: miniupnpd on %s not ready after %v:\n%s", r.Name, daemonStartTimeout, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Leases are the lines of the router's miniupnpd lease file
// (PROTO:EXTPORT:INTADDR:INTPORT:EXPIRES:DESC), none without a daemon.
func (r *Router) Leases() ([]string, error) {
	if r.leases == "" {
		return nil, nil
	}
	b, err := os.ReadFile(r.leases)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' }), nil
}
