//go:build linux

package portmaplab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
)

// NetnsPrefix is shared with natlab, whose Main removes stale labs too.
const NetnsPrefix = "irohspoke-lab-"

// Addresses of the lab.
var (
	RouterWAN = netip.MustParseAddr("5.5.5.1")
	RouterLAN = netip.MustParseAddr("10.77.0.1")
	LANHost   = netip.MustParseAddr("10.77.0.2")
	PubHost   = netip.MustParseAddr("5.5.5.2")
)

// Lab is the three namespaces and the gateway daemon.
type Lab struct {
	Router, LAN, Pub *natlab.Host
	Dir              string // config, lease and pid files
	Daemon           *natlab.Proc
	netnss           []string
}

// New builds the namespaces and starts miniupnpd with cfg; everything is
// removed when the test ends.
func New(t testing.TB, cfg Config) *Lab {
	t.Helper()
	var r [3]byte
	_, _ = rand.Read(r[:])
	id := fmt.Sprintf("%s%d-%s", NetnsPrefix, os.Getpid(), hex.EncodeToString(r[:]))
	l := &Lab{Dir: t.TempDir()}
	t.Cleanup(l.teardown)
	if err := l.build(id); err != nil {
		t.Fatalf("portmaplab: %v", err)
	}
	l.startDaemon(t, cfg)
	return l
}

func (l *Lab) build(id string) error {
	ns := map[string]string{}
	for _, role := range []string{"r", "lan", "pub"} {
		ns[role] = id + "-pm" + role
		if err := ip("netns", "add", ns[role]); err != nil {
			return err
		}
		l.netnss = append(l.netnss, ns[role])
		if err := ip("-n", ns[role], "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	r, lan, pub := ns["r"], ns["lan"], ns["pub"]
	steps := [][]string{
		{"-n", r, "link", "add", "wan", "type", "veth", "peer", "name", "eth0", "netns", pub},
		{"-n", r, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", lan},
		{"-n", r, "addr", "add", RouterWAN.String() + "/24", "dev", "wan"},
		{"-n", r, "addr", "add", RouterLAN.String() + "/24", "dev", "lan"},
		{"-n", r, "link", "set", "wan", "up"},
		{"-n", r, "link", "set", "lan", "up"},
		{"-n", pub, "addr", "add", PubHost.String() + "/24", "dev", "eth0"},
		{"-n", pub, "link", "set", "eth0", "up"},
		{"-n", lan, "addr", "add", LANHost.String() + "/24", "dev", "eth0"},
		{"-n", lan, "link", "set", "eth0", "up"},
		{"-n", lan, "route", "add", "default", "via", RouterLAN.String()},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	l.Router = natlab.NewHost("router", r, RouterLAN)
	l.LAN = natlab.NewHost("lan", lan, LANHost)
	l.Pub = natlab.NewHost("pub", pub, PubHost)
	if out, err := exec.Command("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		return fmt.Errorf("ip_forward: %v: %s", err, out)
	}
	return nil
}

func (l *Lab) teardown() {
	for i := len(l.netnss) - 1; i >= 0; i-- {
		if err := ip("netns", "del", l.netnss[i]); err != nil {
			fmt.Fprintf(os.Stderr, "portmaplab: %v\n", err)
		}
	}
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RemoveStale deletes lab namespaces whose test process is gone.
func RemoveStale() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		if interop.OwnerGone(e.Name(), NetnsPrefix) {
			_ = ip("netns", "del", e.Name())
		}
	}
}
