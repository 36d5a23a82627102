//go:build linux

package portmaplab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Config chooses what the gateway serves.
type Config struct {
	NATPMP bool // miniupnpd enable_natpmp: NAT-PMP and PCP on port 5351
	UPnP   bool // miniupnpd enable_upnp
	// DropNATPMP and DropPCP discard datagrams of that protocol on the
	// router, leaving the other one alone on port 5351.
	DropNATPMP, DropPCP bool
	IGDv1               bool // describe the gateway as IGDv1 (no AddAnyPortMapping)
	MaxLifetime         int  // PCP lifetime cap in seconds (0: miniupnpd's default)
}

const startTimeout = 5 * time.Second

// ruleset is the router's nftables setup: the chains miniupnpd fills (its
// defaults: table inet filter, chains miniupnpd, prerouting_miniupnpd,
// postrouting_miniupnpd), LAN-to-WAN forwarding with masquerade, and the
// optional per-protocol drops.
func ruleset(cfg Config) string {
	var drops []string
	if cfg.DropNATPMP {
		drops = append(drops, "udp dport 5351 @th,64,8 0 drop")
	}
	if cfg.DropPCP {
		drops = append(drops, "udp dport 5351 @th,64,8 2 drop")
	}
	return fmt.Sprintf(`table inet filter {
	chain forward {
		type filter hook forward priority 0; policy drop;
		iifname "lan" oifname "wan" accept
		ct state established,related accept
		jump miniupnpd
	}
	chain miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd
		oifname "wan" masquerade
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
table inet portmaplab {
	chain input {
		type filter hook input priority -10; policy accept;
		%s
	}
}
`, strings.Join(drops, "\n\t\t"))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// config is miniupnpd.conf for the lab.
func (l *Lab) config(cfg Config) string {
	lines := []string{
		"ext_ifname=wan",
		"listening_ip=lan",
		"http_port=0",
		"enable_natpmp=" + yesNo(cfg.NATPMP),
		"enable_upnp=" + yesNo(cfg.UPnP),
		"force_igd_desc_v1=" + yesNo(cfg.IGDv1),
		"lease_file=" + l.LeaseFile(),
		"uuid=3e2d0c4e-1a6b-4c1f-9d22-5b1e7f1d2a01",
		"secure_mode=yes",
		"system_uptime=no",
		"min_lifetime=1",
	}
	if cfg.MaxLifetime > 0 {
		lines = append(lines, "max_lifetime="+strconv.Itoa(cfg.MaxLifetime))
	}
	lines = append(lines, "allow 1024-65535 10.77.0.0/24 1024-65535", "deny 0-65535 0.0.0.0/0 0-65535")
	return strings.Join(lines, "\n") + "\n"
}

// LeaseFile is miniupnpd's lease file.
func (l *Lab) LeaseFile() string { return filepath.Join(l.Dir, "leases") }

func (l *Lab) startDaemon(t testing.TB, cfg Config) {
	t.Helper()
	nft := l.Router.Command(context.Background(), "nft", "-f", "-")
	nft.Stdin = strings.NewReader(ruleset(cfg))
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("portmaplab: nft: %v: %s", err, out)
	}
	conf := filepath.Join(l.Dir, "miniupnpd.conf")
	if err := os.WriteFile(conf, []byte(l.config(cfg)), 0o600); err != nil {
		t.Fatal(err)
	}
	l.Daemon = l.Router.StartMiniupnpd(t, conf, filepath.Join(l.Dir, "pid"))
	var ready []string
	if cfg.NATPMP {
		ready = append(ready, "Listening for NAT-PMP/PCP traffic")
	}
	if cfg.UPnP {
		ready = append(ready, "HTTP listening on port")
	}
	deadline := time.Now().Add(startTimeout)
	for !containsAll(l.Daemon.Stderr(), ready) {
		if time.Now().After(deadline) {
			t.Fatalf("portmaplab: miniupnpd not ready after %v:\n%s", startTimeout, l.Daemon.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// Lease is one line of miniupnpd's lease file.
type Lease struct {
	Proto        string
	ExternalPort uint16
	Internal     netip.AddrPort
	Expires      time.Time
	Desc         string
}

// Leases reads the lease file (no file: no leases).
func (l *Lab) Leases() ([]Lease, error) {
	text, err := os.ReadFile(l.LeaseFile())
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Lease
	for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 6)
		if len(f) != 6 {
			return nil, fmt.Errorf("portmaplab: lease line %q", line)
		}
		ext, err1 := strconv.ParseUint(f[1], 10, 16)
		addr, err2 := netip.ParseAddr(f[2])
		port, err3 := strconv.ParseUint(f[3], 10, 16)
		ts, err4 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("portmaplab: lease line %q", line)
		}
		out = append(out, Lease{Proto: f[0], ExternalPort: uint16(ext), Internal: netip.AddrPortFrom(addr, uint16(port)),
			Expires: time.Unix(ts, 0), Desc: f[5]})
	}
	return out, nil
}
