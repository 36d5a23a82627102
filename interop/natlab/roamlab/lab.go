//go:build linux

package roamlab

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// NetnsPrefix is shared with natlab, whose Main removes stale labs too.
const NetnsPrefix = "irohspoke-lab-"

const (
	bridgeIf   = "br0"
	publicNet  = "5.5.6"
	maxRouters = 40
	maxPublic  = 80
)

// Lab is the public segment and what is plugged into it.
type Lab struct {
	id      string
	pub     string // the bridge's namespace
	netnss  []string
	ports   int // bridge ports made
	public  int // public addresses given out
	routers int
	Dir     string // miniupnpd configs and leases
}

// New builds the public segment; everything is removed when the test
// ends.
func New(t testing.TB) *Lab {
	t.Helper()
	var r [3]byte
	_, _ = rand.Read(r[:])
	l := &Lab{id: fmt.Sprintf("%s%d-%s", NetnsPrefix, os.Getpid(), hex.EncodeToString(r[:])), Dir: t.TempDir()}
	t.Cleanup(l.teardown)
	var err error
	if l.pub, err = l.netns("pub"); err == nil {
		err = ipAll([][]string{
			{"-n", l.pub, "link", "add", bridgeIf, "type", "bridge"},
			{"-n", l.pub, "link", "set", bridgeIf, "up"},
		})
	}
	if err != nil {
		t.Fatalf("roamlab: %v", err)
	}
	return l
}

// netns creates <lab id>-<role> with lo up.
func (l *Lab) netns(role string) (string, error) {
	ns := l.id + "-" + role
	if err := ip("netns", "add", ns); err != nil {
		return "", err
	}
	l.netnss = append(l.netnss, ns)
	return ns, ip("-n", ns, "link", "set", "lo", "up")
}

// nextPublic hands out 5.5.6.10, .11, ...
func (l *Lab) nextPublic() (netip.Addr, error) {
	if l.public >= maxPublic {
		return netip.Addr{}, fmt.Errorf("roamlab: more than %d public addresses", maxPublic)
	}
	l.public++
	return netip.MustParseAddr(fmt.Sprintf("%s.%d", publicNet, 9+l.public)), nil
}

// plug links ifname in ns to the bridge (left down, without address).
func (l *Lab) plug(ns, ifname string) error {
	l.ports++
	port := fmt.Sprintf("p%d", l.ports)
	return ipAll([][]string{
		{"-n", ns, "link", "add", ifname, "type", "veth", "peer", "name", port, "netns", l.pub},
		{"-n", l.pub, "link", "set", port, "master", bridgeIf},
		{"-n", l.pub, "link", "set", port, "up"},
	})
}

// plugUp is plug with addr/24 configured and the link up.
func (l *Lab) plugUp(ns, ifname string, addr netip.Addr) error {
	if err := l.plug(ns, ifname); err != nil {
		return err
	}
	return ipAll(upSteps(ns, ifname, netip.PrefixFrom(addr, 24)))
}

func upSteps(ns, ifname string, addr netip.Prefix) [][]string {
	return [][]string{
		{"-n", ns, "addr", "add", addr.String(), "dev", ifname},
		{"-n", ns, "link", "set", ifname, "up"},
	}
}

// Public adds a host on the public segment (no default route: the
// segment is all the internet there is).
func (l *Lab) Public(t testing.TB, name string) *natlab.Host {
	t.Helper()
	ns, err := l.netns("h-" + name)
	var addr netip.Addr
	if err == nil {
		addr, err = l.nextPublic()
	}
	if err == nil {
		err = l.plugUp(ns, "eth0", addr)
	}
	if err != nil {
		t.Fatalf("roamlab: public host %s: %v", name, err)
	}
	return natlab.NewHost(name, ns, addr)
}

// Host adds a host with no link yet (see Attach, AttachPublic).
func (l *Lab) Host(t testing.TB, name string) *natlab.Host {
	t.Helper()
	ns, err := l.netns("h-" + name)
	if err != nil {
		t.Fatalf("roamlab: host %s: %v", name, err)
	}
	return natlab.NewHost(name, ns, netip.Addr{})
}

func (l *Lab) teardown() {
	for i := len(l.netnss) - 1; i >= 0; i-- {
		if err := ip("netns", "del", l.netnss[i]); err != nil {
			fmt.Fprintf(os.Stderr, "roamlab: %v\n", err)
		}
	}
	l.netnss = nil
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func ipAll(steps [][]string) error {
	for _, s := range steps {
		if err := ip(s...); err != nil {
			return err
		}
	}
	return nil
}
