//go:build linux

package natlab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// Interface names inside the lab's namespaces.
const (
	bridgeIf = "br0"  // the "internet" switch in the public namespace
	wanIf    = "wan"  // a router's public side
	lanIf    = "lan"  // a router's private side
	hostIf   = "eth0" // a host's only interface

	netnsPrefix = "irohspoke-lab-"
	maxNATs     = 50
	maxPublic   = 80
)

var (
	// ErrBadSpec means a Spec cannot be built (bad or duplicate names,
	// too many hosts, an unknown NAT kind).
	ErrBadSpec = errors.New("natlab: bad spec")
	// ErrNoSuchHost means the lab has no host or NAT of that name.
	ErrNoSuchHost = errors.New("natlab: no such host")
)

var hostName = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// Spec describes a lab.
type Spec struct {
	// NATs each get a router and one private host named like the NAT.
	NATs []NATSpec
	// Public names hosts directly on the public segment (a relay, a
	// public hub, an echo server).
	Public []string
}

// NATSpec is one NAT router with a private host behind it.
type NATSpec struct {
	Name string // the private host's name: a-z then a-z0-9, up to 16
	Kind NATKind
}

// Lab is a built topology. It is torn down when the test that made it ends.
type Lab struct {
	id     string // unique part of every namespace name
	pub    string // the public namespace (bridge only)
	hosts  map[string]*Host
	nats   map[string]*NAT
	netnss []string // every namespace created, for teardown
}

// NAT is a router and the private host behind it.
type NAT struct {
	Kind   NATKind
	Router *Host // Router.Addr() is the NAT's public address
	Host   *Host // the private host
}

// PublicAddr is the address the NAT's private host appears from.
func (n *NAT) PublicAddr() netip.Addr { return n.Router.addr }

// Host returns the host (public or private) called name.
func (l *Lab) Host(name string) *Host {
	return l.hosts[name]
}

// NAT returns the NAT whose private host is called name.
func (l *Lab) NAT(name string) *NAT { return l.nats[name] }

// MustHost is Host that fails the test for an unknown name.
func (l *Lab) MustHost(t testing.TB, name string) *Host {
	t.Helper()
	h := l.hosts[name]
	if h == nil {
		t.Fatalf("%v: %q", ErrNoSuchHost, name)
	}
	return h
}

// Addresses: the public segment is 198.51.100.0/24 (TEST-NET-2); public
// hosts get .10 upwards, NAT routers .100 upwards; NAT i's LAN is
// 10.(i+1).0.0/24 with the router at .1 and the host at .2.
func publicHostAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}) }
func routerWANAddr(i int) netip.Addr  { return netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + i)}) }
func routerLANAddr(i int) netip.Addr  { return netip.AddrFrom4([4]byte{10, byte(i + 1), 0, 1}) }
func privateHostAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i + 1), 0, 2})
}

func (s Spec) validate() error {
	if len(s.NATs) > maxNATs || len(s.Public) > maxPublic {
		return fmt.Errorf("%w: at most %d NATs and %d public hosts", ErrBadSpec, maxNATs, maxPublic)
	}
	seen := map[string]bool{}
	check := func(name string) error {
		if !hostName.MatchString(name) {
			return fmt.Errorf("%w: host name %q", ErrBadSpec, name)
		}
		if seen[name] {
			return fmt.Errorf("%w: duplicate host name %q", ErrBadSpec, name)
		}
		seen[name] = true
		return nil
	}
	for _, n := range s.NATs {
		if err := check(n.Name); err != nil {
			return err
		}
		if _, err := n.Kind.masqueradeFlags(); err != nil {
			return err
		}
	}
	for _, p := range s.Public {
		if err := check(p); err != nil {
			return err
		}
	}
	return nil
}

// New builds the lab described by spec and registers its teardown with
// t.Cleanup. It fails the test if the lab cannot be built. (Link delay and
// loss are not offered: this kernel has no sch_netem, and lossy links are
// covered deterministically by the QUIC core's virtual-time tests.)
func New(t testing.TB, spec Spec) *Lab {
	t.Helper()
	if err := spec.validate(); err != nil {
		t.Fatal(err)
	}
	var r [3]byte
	if _, err := rand.Read(r[:]); err != nil {
		t.Fatal(err)
	}
	l := &Lab{
		id:    fmt.Sprintf("%s%d-%s", netnsPrefix, os.Getpid(), hex.EncodeToString(r[:])),
		hosts: map[string]*Host{},
		nats:  map[string]*NAT{},
	}
	t.Cleanup(l.teardown)
	if err := l.build(spec); err != nil {
		t.Fatalf("natlab: building the lab: %v", err)
	}
	return l
}

func (l *Lab) build(spec Spec) error {
	var err error
	if l.pub, err = l.addNetns("pub"); err != nil {
		return err
	}
	if err := ipCmd("-n", l.pub, "link", "add", bridgeIf, "type", "bridge"); err != nil {
		return err
	}
	if err := ipCmd("-n", l.pub, "link", "set", bridgeIf, "up"); err != nil {
		return err
	}
	for i, name := range spec.Public {
		h, err := l.addPublicHost(name, publicHostAddr(i), fmt.Sprintf("h%d", i))
		if err != nil {
			return err
		}
		l.hosts[name] = h
	}
	for i, n := range spec.NATs {
		if err := l.addNAT(i, n); err != nil {
			return err
		}
	}
	return nil
}

// addPublicHost creates a namespace with eth0 at addr/24 plugged into the
// bridge as port. Public hosts have no default route: the public segment
// is all the internet there is.
func (l *Lab) addPublicHost(name string, addr netip.Addr, port string) (*Host, error) {
	ns, err := l.addNetns("h-" + name)
	if err != nil {
		return nil, err
	}
	if err := l.plug(ns, hostIf, port); err != nil {
		return nil, err
	}
	if err := ipCmd("-n", ns, "addr", "add", addr.String()+"/24", "dev", hostIf); err != nil {
		return nil, err
	}
	if err := ipCmd("-n", ns, "link", "set", hostIf, "up"); err != nil {
		return nil, err
	}
	return &Host{Name: name, Netns: ns, addr: addr}, nil
}

// plug links ifname in ns to the bridge through a veth whose bridge end is
// called port.
func (l *Lab) plug(ns, ifname, port string) error {
	if err := ipCmd("-n", ns, "link", "add", ifname, "type", "veth", "peer", "name", port, "netns", l.pub); err != nil {
		return err
	}
	if err := ipCmd("-n", l.pub, "link", "set", port, "master", bridgeIf); err != nil {
		return err
	}
	return ipCmd("-n", l.pub, "link", "set", port, "up")
}

func (l *Lab) addNAT(i int, spec NATSpec) error {
	rns, err := l.addNetns("r-" + spec.Name)
	if err != nil {
		return err
	}
	router := &Host{Name: spec.Name + "-nat", Netns: rns, addr: routerWANAddr(i)}
	if err := l.plug(rns, wanIf, fmt.Sprintf("n%d", i)); err != nil {
		return err
	}
	// The private host's veth is created from the router's side so its
	// far end lands directly in the host namespace.
	hns, err := l.addNetns("h-" + spec.Name)
	if err != nil {
		return err
	}
	host := &Host{Name: spec.Name, Netns: hns, addr: privateHostAddr(i)}
	steps := [][]string{
		{"-n", rns, "link", "add", lanIf, "type", "veth", "peer", "name", hostIf, "netns", hns},
		{"-n", rns, "addr", "add", router.addr.String() + "/24", "dev", wanIf},
		{"-n", rns, "addr", "add", routerLANAddr(i).String() + "/24", "dev", lanIf},
		{"-n", rns, "link", "set", wanIf, "up"},
		{"-n", rns, "link", "set", lanIf, "up"},
		{"-n", hns, "addr", "add", host.addr.String() + "/24", "dev", hostIf},
		{"-n", hns, "link", "set", hostIf, "up"},
		{"-n", hns, "route", "add", "default", "via", routerLANAddr(i).String()},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	if out, err := exec.Command("ip", "netns", "exec", rns, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		return fmt.Errorf("ip_forward in %s: %v: %s", rns, err, strings.TrimSpace(string(out)))
	}
	rules, err := natRuleset(spec.Kind)
	if err != nil {
		return err
	}
	nft := exec.Command("ip", "netns", "exec", rns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", rns, err, strings.TrimSpace(string(out)))
	}
	l.hosts[spec.Name] = host
	l.nats[spec.Name] = &NAT{Kind: spec.Kind, Router: router, Host: host}
	return nil
}

// addNetns creates <lab id>-<role> with lo up.
func (l *Lab) addNetns(role string) (string, error) {
	ns := l.id + "-" + role
	if err := ipCmd("netns", "add", ns); err != nil {
		return "", err
	}
	l.netnss = append(l.netnss, ns)
	return ns, ipCmd("-n", ns, "link", "set", "lo", "up")
}

func (l *Lab) teardown() {
	for i := len(l.netnss) - 1; i >= 0; i-- {
		if err := ipCmd("netns", "del", l.netnss[i]); err != nil {
			fmt.Fprintf(os.Stderr, "natlab: %v\n", err)
		}
	}
	l.netnss = nil
}

func ipCmd(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// removeStaleLabs deletes namespaces of labs whose test process is gone:
// irohspoke-lab-<pid>-<hex>-<role>.
func removeStaleLabs() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		if interop.OwnerGone(e.Name(), netnsPrefix) {
			_ = ipCmd("netns", "del", e.Name())
		}
	}
}
