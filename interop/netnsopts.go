package interop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// etcNetnsDir is where `ip netns exec NS` finds per-namespace files: each
// file in etcNetnsDir/NS is bind-mounted over the same name in /etc for
// the command it runs.
const etcNetnsDir = "/etc/netns"

// ErrBadResolver means NetnsOptions.Resolver is not a loopback address, or
// the namespace's /etc/resolv.conf does not name it.
var ErrBadResolver = errors.New("interop: bad namespace resolver")

// NetnsOptions configure the namespace InNetnsWith creates.
type NetnsOptions struct {
	// Resolver, if set, is the only nameserver of processes in the
	// namespace: InNetnsWith writes /etc/netns/<ns>/resolv.conf with
	// "nameserver <Resolver>" before re-running the tests, so the test
	// binary and every child see it as /etc/resolv.conf. A test can then
	// answer the system resolver's queries itself, e.g. by serving DNS on
	// <Resolver>:53. It must be a loopback address: the namespace has no
	// other interface anyway, and this keeps queries from even trying to
	// leave it.
	Resolver string
}

func (o NetnsOptions) validate() error {
	if o.Resolver == "" {
		return nil
	}
	a, err := netip.ParseAddr(o.Resolver)
	if err != nil || !a.IsLoopback() || a.Zone() != "" {
		return fmt.Errorf("%w: %q is not a loopback IP address", ErrBadResolver, o.Resolver)
	}
	return nil
}

// resolvConf is the file written for the namespace.
func (o NetnsOptions) resolvConf() string {
	return "# written by irohspoke interop.InNetnsWith for this test namespace\nnameserver " + o.Resolver + "\n"
}

// writeEtc creates /etc/netns/<ns> with the files the options call for.
func (o NetnsOptions) writeEtc(ns string) error {
	if o.Resolver == "" {
		return nil
	}
	dir := filepath.Join(etcNetnsDir, ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(o.resolvConf()), 0o644)
}

// checkInside verifies, from inside the namespace, that the bind mount
// took effect: /etc/resolv.conf must list exactly the configured resolver.
func (o NetnsOptions) checkInside() error {
	if o.Resolver == "" {
		return nil
	}
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadResolver, err)
	}
	defer f.Close()
	servers, err := nameservers(f)
	if err != nil {
		return fmt.Errorf("%w: reading /etc/resolv.conf: %v", ErrBadResolver, err)
	}
	if len(servers) != 1 || servers[0] != o.Resolver {
		return fmt.Errorf("%w: /etc/resolv.conf lists %v, want only %s", ErrBadResolver, servers, o.Resolver)
	}
	return nil
}

// nameservers lists the nameserver lines of a resolv.conf.
func nameservers(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			out = append(out, fields[1])
		}
	}
	return out, sc.Err()
}

// removeNetnsEtc deletes /etc/netns/<ns>, if there is one. ns must be a
// harness namespace name, never a path.
func removeNetnsEtc(ns string) {
	if !strings.HasPrefix(ns, netnsPrefix) || strings.ContainsAny(ns, `/\`) || ns == "." || ns == ".." {
		return
	}
	if err := os.RemoveAll(filepath.Join(etcNetnsDir, ns)); err != nil {
		fmt.Fprintf(os.Stderr, "interop: removing %s: %v\n", filepath.Join(etcNetnsDir, ns), err)
	}
}
