//go:build linux

package inetlab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// netnsPrefix is natlab's, so natlab.Main's sweep of namespaces left by
// killed test processes covers these labs too.
const netnsPrefix = "irohspoke-lab-"

// Interface names.
const (
	bridgeIf = "br0"
	hostIf   = "eth0"
)

const (
	maxRelays = 16
	maxHomes  = 40
	maxPublic = 40
)

var (
	// ErrBadSpec means a Spec cannot be built.
	ErrBadSpec = errors.New("inetlab: bad spec")
	// ErrNoSuchHost means the lab has no host of that name.
	ErrNoSuchHost = errors.New("inetlab: no such host")
)

var hostName = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// Spec describes a lab.
type Spec struct {
	// Relays get a host each, reachable under their names. Nil means
	// every production relay (ProdRelays) with no added delay.
	Relays []RelaySpec
	// PlainRelay adds a plain-HTTP "irohspoke relay" (PlainRelayURL),
	// for real iroh peers.
	PlainRelay bool
	// Homes are private hosts, each behind its own NAT router.
	Homes []HomeSpec
	// Public names hosts directly on the internet segment.
	Public []string
}

// RelaySpec is one relay of the lab.
type RelaySpec struct {
	Name  string        // DNS name without the trailing dot, e.g. ProdRelays[0]
	Delay time.Duration // added each way in front of the relay (RTT + 2×Delay)
}

// HomeSpec is a private host behind a NAT router.
type HomeSpec struct {
	Name string // the private host's name: a-z then a-z0-9, up to 12
	NAT  natlab.NATKind
}

// Lab is a built internet. It is torn down when the test that made it ends.
type Lab struct {
	id     string
	inet   string   // the bridge's namespace
	netnss []string // every namespace made, for teardown
	ports  int      // bridge ports made so far

	certs  *certs
	DNS    *DNSHost
	relays []*Relay
	plain  *Relay
	hosts  map[string]*natlab.Host
	homes  map[string]*Home
}

// Home is a private host and its NAT router.
type Home struct {
	Host   *natlab.Host
	Router *natlab.Host // Router.Addr() is the public address
}

// Address plan. Everything on the bridge shares 20.0.0.0/8, so every
// public address is on-link and no namespace needs a route.
var (
	dnsAddr   = netip.AddrFrom4([4]byte{20, 0, 0, 53})
	plainAddr = netip.AddrFrom4([4]byte{20, 5, 0, 1})
)

func relayAddr(i int) netip.Addr   { return netip.AddrFrom4([4]byte{20, 1, 0, byte(i + 1)}) }
func routerWAN(i int) netip.Addr   { return netip.AddrFrom4([4]byte{20, 3, 0, byte(i + 1)}) }
func publicAddr(i int) netip.Addr  { return netip.AddrFrom4([4]byte{20, 4, 0, byte(i + 1)}) }
func routerLAN(i int) netip.Addr   { return netip.AddrFrom4([4]byte{192, 168, byte(i + 1), 1}) }
func privateAddr(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 168, byte(i + 1), 2}) }

const inetPrefix = "/8"

func (s Spec) relays() []RelaySpec {
	if s.Relays != nil {
		return s.Relays
	}
	rs := make([]RelaySpec, len(ProdRelays))
	for i, n := range ProdRelays {
		rs[i] = RelaySpec{Name: n}
	}
	return rs
}

func (s Spec) validate() error {
	if len(s.relays()) > maxRelays || len(s.Homes) > maxHomes || len(s.Public) > maxPublic {
		return fmt.Errorf("%w: at most %d relays, %d homes and %d public hosts", ErrBadSpec, maxRelays, maxHomes, maxPublic)
	}
	seen := map[string]bool{}
	for _, r := range s.relays() {
		if !isRelayName(r.Name) || seen[r.Name] {
			return fmt.Errorf("%w: relay %q (want a distinct name from ProdRelays or StagingRelays)", ErrBadSpec, r.Name)
		}
		if r.Delay < 0 || r.Delay > maxDelay {
			return fmt.Errorf("%w: relay %s delay %v (0 to %v)", ErrBadSpec, r.Name, r.Delay, maxDelay)
		}
		seen[r.Name] = true
	}
	for _, name := range append(homeNames(s.Homes), s.Public...) {
		if !hostName.MatchString(name) || seen[name] {
			return fmt.Errorf("%w: host name %q (a-z then a-z0-9, up to 12, distinct)", ErrBadSpec, name)
		}
		seen[name] = true
	}
	return nil
}

func homeNames(hs []HomeSpec) []string {
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	return names
}

// New builds the lab, starts its DNS, pkarr and relay servers, and
// registers the teardown with t.Cleanup.
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
		hosts: map[string]*natlab.Host{},
		homes: map[string]*Home{},
	}
	t.Cleanup(l.teardown)
	var err error
	if l.certs, err = newCerts(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := l.build(spec); err != nil {
		t.Fatalf("inetlab: building the lab: %v", err)
	}
	l.DNS = startDNSHost(t, l)
	for _, rl := range l.relays {
		rl.start(t, l)
		l.DNS.Front.AddHost(rl.Name, rl.Host.Addr())
	}
	if l.plain != nil {
		l.plain.startPlain(t, l)
	}
	return l
}

func (l *Lab) build(spec Spec) error {
	var err error
	if l.inet, err = l.addNetns("inet"); err != nil {
		return err
	}
	if err := ipCmd("-n", l.inet, "link", "add", bridgeIf, "type", "bridge"); err != nil {
		return err
	}
	if err := ipCmd("-n", l.inet, "link", "set", bridgeIf, "up"); err != nil {
		return err
	}
	dns, err := l.addPublicHost("dns", dnsAddr)
	if err != nil {
		return err
	}
	l.hosts["dns"] = dns
	for i, rs := range spec.relays() {
		h, err := l.addPublicHost(fmt.Sprintf("relay%d", i), relayAddr(i))
		if err != nil {
			return err
		}
		l.relays = append(l.relays, &Relay{Name: rs.Name, Delay: rs.Delay, Host: h})
	}
	if spec.PlainRelay {
		h, err := l.addPublicHost("plain", plainAddr)
		if err != nil {
			return err
		}
		l.plain = &Relay{Name: plainAddr.String(), Host: h}
	}
	for i, name := range spec.Public {
		if l.hosts[name], err = l.addPublicHost(name, publicAddr(i)); err != nil {
			return err
		}
	}
	for i, hs := range spec.Homes {
		if err := l.addHome(i, hs); err != nil {
			return err
		}
	}
	for _, ns := range l.netnss {
		if ns != l.inet {
			if err := writeNetnsEtc(ns); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPublicHost makes a namespace with eth0 at addr on the bridge and
// the lab's server counters.
func (l *Lab) addPublicHost(name string, addr netip.Addr) (*natlab.Host, error) {
	ns, err := l.addNetns("h-" + name)
	if err != nil {
		return nil, err
	}
	if err := l.plug(ns, hostIf, addr); err != nil {
		return nil, err
	}
	if err := nftApply(ns, countersRuleset); err != nil {
		return nil, err
	}
	return natlab.NewHost(name, ns, addr), nil
}

// plug links ifname in ns to the bridge and gives it addr.
func (l *Lab) plug(ns, ifname string, addr netip.Addr) error {
	port := fmt.Sprintf("p%d", l.ports)
	l.ports++
	steps := [][]string{
		{"-n", ns, "link", "add", ifname, "type", "veth", "peer", "name", port, "netns", l.inet},
		{"-n", l.inet, "link", "set", port, "master", bridgeIf},
		{"-n", l.inet, "link", "set", port, "up"},
		{"-n", ns, "addr", "add", addr.String() + inetPrefix, "dev", ifname},
		{"-n", ns, "link", "set", ifname, "up"},
	}
	return ipSteps(steps)
}

func (l *Lab) addHome(i int, spec HomeSpec) error {
	rns, err := l.addNetns("r-" + spec.Name)
	if err != nil {
		return err
	}
	if err := l.plug(rns, natlab.RouterWAN, routerWAN(i)); err != nil {
		return err
	}
	hns, err := l.addNetns("h-" + spec.Name)
	if err != nil {
		return err
	}
	steps := [][]string{
		{"-n", rns, "link", "add", natlab.RouterLAN, "type", "veth", "peer", "name", hostIf, "netns", hns},
		{"-n", rns, "addr", "add", routerLAN(i).String() + "/24", "dev", natlab.RouterLAN},
		{"-n", rns, "link", "set", natlab.RouterLAN, "up"},
		{"-n", hns, "addr", "add", privateAddr(i).String() + "/24", "dev", hostIf},
		{"-n", hns, "link", "set", hostIf, "up"},
		{"-n", hns, "route", "add", "default", "via", routerLAN(i).String()},
	}
	if err := ipSteps(steps); err != nil {
		return err
	}
	if out, err := exec.Command("ip", "netns", "exec", rns, "sysctl", "-qw", "net.ipv4.ip_forward=1").CombinedOutput(); err != nil {
		return fmt.Errorf("ip_forward in %s: %v: %s", rns, err, strings.TrimSpace(string(out)))
	}
	rules, err := natlab.NATRuleset(spec.NAT)
	if err != nil {
		return err
	}
	if err := nftApply(rns, rules); err != nil {
		return err
	}
	home := &Home{
		Host:   natlab.NewHost(spec.Name, hns, privateAddr(i)),
		Router: natlab.NewHost(spec.Name+"-nat", rns, routerWAN(i)),
	}
	l.homes[spec.Name] = home
	l.hosts[spec.Name] = home.Host
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
		ns := l.netnss[i]
		if err := ipCmd("netns", "del", ns); err != nil {
			fmt.Fprintf(os.Stderr, "inetlab: %v\n", err)
		}
		removeNetnsEtc(ns)
	}
	l.netnss = nil
}

// Host returns the public or private host called name, or nil.
func (l *Lab) Host(name string) *natlab.Host { return l.hosts[name] }

// MustHost is Host that fails the test for an unknown name.
func (l *Lab) MustHost(t testing.TB, name string) *natlab.Host {
	t.Helper()
	h := l.hosts[name]
	if h == nil {
		t.Fatalf("%v: %q", ErrNoSuchHost, name)
	}
	return h
}

// Home returns the home called name, or nil.
func (l *Lab) Home(name string) *Home { return l.homes[name] }

// Relays are the lab's relays, in Spec order.
func (l *Lab) Relays() []*Relay { return l.relays }

// Relay returns the relay serving name (with or without the trailing
// dot), or nil.
func (l *Lab) Relay(name string) *Relay {
	name = strings.TrimSuffix(name, ".")
	for _, r := range l.relays {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// PlainRelayURL is the plain-HTTP relay's URL (Spec.PlainRelay).
func (l *Lab) PlainRelayURL() string {
	return "http://" + netip.AddrPortFrom(plainAddr, PlainRelayPort).String() + "/"
}

// CAFile is the PEM file of the lab's certificate authority.
func (l *Lab) CAFile() string { return l.certs.caFile }

func ipCmd(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func ipSteps(steps [][]string) error {
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	return nil
}

// etcNetns is where ip netns exec finds the files it bind-mounts over
// /etc for the commands it runs.
const etcNetns = "/etc/netns"

// writeNetnsEtc makes the lab's DNS host the namespace's only resolver
// and gives it a hosts file with nothing but localhost.
func writeNetnsEtc(ns string) error {
	dir := filepath.Join(etcNetns, ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	resolv := "# inetlab: the lab's DNS host\nnameserver " + dnsAddr.String() + "\noptions timeout:1 attempts:2\n"
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(resolv), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte("127.0.0.1 localhost\n::1 localhost\n"), 0o644)
}

// removeNetnsEtc deletes /etc/netns/<ns> of a lab namespace.
func removeNetnsEtc(ns string) {
	if !strings.HasPrefix(ns, netnsPrefix) || strings.ContainsAny(ns, `/\`) {
		return
	}
	if err := os.RemoveAll(filepath.Join(etcNetns, ns)); err != nil {
		fmt.Fprintf(os.Stderr, "inetlab: %v\n", err)
	}
}
