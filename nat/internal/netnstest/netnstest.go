//go:build linux

// Package netnstest runs a test inside a fresh network namespace of its
// own: the test binary re-executes itself there with only that test
// selected, so everything it does (netlink, sockets, ip commands) stays in
// the namespace.
package netnstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
)

const (
	envChild = "IROHSPOKE_NETNSTEST"
	// prefix matches the NAT lab's, whose cleanup removes namespaces of
	// killed runs.
	prefix     = "irohspoke-lab-"
	runTimeout = 2 * time.Minute
)

// Enter reports whether the caller runs inside the namespace and should
// go on with the test body. Outside, it creates the namespace (lo up),
// re-runs this test there, relays its verdict and returns false. Without
// root or ip it skips the test, or fails it when CI=true.
func Enter(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envChild) == t.Name() {
		return true
	}
	if err := requirements(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("netnstest: %v", err)
		}
		t.Skipf("netnstest: %v", err)
	}
	removeStale()
	ns := newName()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	defer func() { _ = exec.Command("ip", "netns", "del", ns).Run() }()
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, self, "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), envChild+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	t.Logf("in namespace %s:\n%s", ns, out)
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the test failed inside the namespace: %v", err)
	}
	return false
}

func requirements() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("need root for ip netns")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("ip (iproute2) not found")
	}
	return nil
}

func newName() string {
	var r [3]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("%s%d-%s-nt", prefix, os.Getpid(), hex.EncodeToString(r[:]))
}

func removeStale() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if interop.OwnerGone(e.Name(), prefix) {
			_ = exec.Command("ip", "netns", "del", e.Name()).Run()
		}
	}
}

// IP runs ip with args, failing the test on error.
func IP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}
