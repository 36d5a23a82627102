// Package interop runs the real iroh 1.0 implementation (the Node binding
// @number0/iroh@1.1.0, scripts in interop/node) next to Go tests: a hub,
// spokes and an identity tool.
//
// Every real iroh process must run inside a network namespace that has only
// loopback up, because iroh's port mapper otherwise probes the default
// gateway. A test package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(interop.InNetns(m)) }
//
// which re-executes the test binary inside a fresh namespace; the helpers
// here refuse to start iroh anywhere else.
package interop

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// envNetns carries the namespace name into the re-executed test binary.
	envNetns = "IROHSPOKE_NETNS"
	// EnvInteropDir overrides where the Node scripts live.
	EnvInteropDir = "IROHSPOKE_INTEROP_DIR"

	netnsPrefix       = "irohspoke-"
	npmInstallTimeout = 3 * time.Minute
)

var (
	// ErrNotInNetns means the process is not inside a loopback-only test
	// namespace, so starting real iroh would be unsafe.
	ErrNotInNetns = errors.New("interop: not inside a loopback-only irohspoke network namespace")
	// ErrNodeDirNotFound means interop/node could not be located.
	ErrNodeDirNotFound = errors.New("interop: interop/node directory not found")
)

// InNetns is the body of TestMain for packages that use real iroh. Outside
// a test namespace it installs the npm modules if needed, creates a fresh
// namespace with only lo up, re-runs the test binary inside it and returns
// its exit code. Inside the namespace it runs the tests.
//
// Missing requirements (root, ip, node, npm, a working npm install) skip the
// package on a developer machine and fail it when CI=true.
func InNetns(m *testing.M) int { return InNetnsWith(m, NetnsOptions{}) }

// InNetnsWith is InNetns with options for the namespace (see NetnsOptions).
func InNetnsWith(m *testing.M, opts NetnsOptions) int {
	if err := opts.validate(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: %v\n", err)
		return 1
	}
	if os.Getenv(envNetns) != "" {
		if err := checkLoopbackOnly(); err != nil {
			fmt.Fprintf(os.Stderr, "interop: refusing to run: %v\n", err)
			return 1
		}
		if err := opts.checkInside(); err != nil {
			fmt.Fprintf(os.Stderr, "interop: refusing to run: %v\n", err)
			return 1
		}
		return m.Run()
	}
	if err := prepareHost(); err != nil {
		return requirementMissing(err)
	}
	removeStaleNetns()
	ns, err := createNetns()
	if err != nil {
		return requirementMissing(err)
	}
	defer deleteNetns(ns)
	// Registered after deleteNetns so it runs first: the files belong to
	// the namespace's lifetime.
	defer removeNetnsEtc(ns)
	if err := opts.writeEtc(ns); err != nil {
		fmt.Fprintf(os.Stderr, "interop: preparing namespace %s: %v\n", ns, err)
		return 1
	}
	code, err := reexecIn(ns)
	if err != nil {
		fmt.Fprintf(os.Stderr, "interop: running tests in namespace %s: %v\n", ns, err)
		return 1
	}
	return code
}

// RequireNetns fails (CI=true) or skips the test unless it runs inside a
// loopback-only test namespace.
func RequireNetns(t testing.TB) {
	t.Helper()
	if err := netnsReady(); err != nil {
		if isCI() {
			t.Fatalf("interop: %v (use interop.InNetns in TestMain)", err)
		}
		t.Skipf("SKIP interop: %v (use interop.InNetns in TestMain)", err)
	}
}

func netnsReady() error {
	if os.Getenv(envNetns) == "" {
		return ErrNotInNetns
	}
	return checkLoopbackOnly()
}

// checkLoopbackOnly verifies that no interface other than loopback is up.
func checkLoopbackOnly() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("%w: listing interfaces: %v", ErrNotInNetns, err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("%w: interface %s is up", ErrNotInNetns, ifc.Name)
		}
	}
	return nil
}

func isCI() bool { return os.Getenv("CI") == "true" }

func requirementMissing(err error) int {
	if isCI() {
		fmt.Fprintf(os.Stderr, "FAIL interop: requirement missing with CI=true: %v\n", err)
		return 1
	}
	fmt.Printf("SKIP interop: real-iroh tests skipped: %v\n", err)
	return 0
}

// NodeDir returns the directory holding hub.mjs and friends: $IROHSPOKE_INTEROP_DIR,
// or interop/node under the module root found by walking up to go.mod.
func NodeDir() (string, error) {
	if d := os.Getenv(EnvInteropDir); d != "" {
		return checkNodeDir(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNodeDirNotFound, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return checkNodeDir(filepath.Join(dir, "interop", "node"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no go.mod above the working directory", ErrNodeDirNotFound)
		}
		dir = parent
	}
}

func checkNodeDir(d string) (string, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNodeDirNotFound, err)
	}
	if _, err := os.Stat(filepath.Join(abs, "hub.mjs")); err != nil {
		return "", fmt.Errorf("%w: %s has no hub.mjs", ErrNodeDirNotFound, abs)
	}
	return abs, nil
}

// prepareHost checks the tools and installs the npm modules. It must run
// before entering the namespace, which has no network.
func prepareHost() error {
	if os.Geteuid() != 0 {
		return errors.New("need root for ip netns")
	}
	for _, tool := range []string{"ip", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found in PATH", tool)
		}
	}
	dir, err := NodeDir()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@number0", "iroh", "package.json")); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "interop: installing npm modules in %s\n", dir)
	// Not `npm ci`: some optional platform packages are not served here, so
	// ci reports the lock as out of sync; install keeps the lock unchanged.
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := runWithTimeout(cmd, npmInstallTimeout)
	if err != nil {
		return fmt.Errorf("npm install failed: %v\n%s", err, out)
	}
	return nil
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	timer := time.AfterFunc(d, func() {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	return cmd.CombinedOutput()
}

func createNetns() (string, error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	ns := fmt.Sprintf("%s%d-%s", netnsPrefix, os.Getpid(), hex.EncodeToString(r[:]))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip netns add %s: %v: %s", ns, err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		deleteNetns(ns)
		return "", fmt.Errorf("bringing up lo in %s: %v: %s", ns, err, strings.TrimSpace(string(out)))
	}
	return ns, nil
}

func deleteNetns(ns string) {
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: ip netns del %s: %v: %s\n", ns, err, strings.TrimSpace(string(out)))
	}
}

// removeStaleNetns deletes namespaces this harness left behind when a
// previous run was killed: irohspoke-<pid>-<hex> whose pid is gone, in
// /run/netns and their files under /etc/netns.
func removeStaleNetns() {
	if entries, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range entries {
			if staleNetnsName(e.Name()) {
				deleteNetns(e.Name())
			}
		}
	}
	if entries, err := os.ReadDir(etcNetnsDir); err == nil {
		for _, e := range entries {
			if e.IsDir() && staleNetnsName(e.Name()) {
				removeNetnsEtc(e.Name())
			}
		}
	}
}

// staleNetnsName reports whether name is irohspoke-<pid>-<8 hex> and that
// process no longer exists.
func staleNetnsName(name string) bool {
	rest, _ := strings.CutPrefix(name, netnsPrefix)
	_, suffix, _ := strings.Cut(rest, "-")
	return len(suffix) == 8 && OwnerGone(name, netnsPrefix)
}

// OwnerGone reports whether a namespace named prefix+"<pid>-…" belongs
// to a process that no longer runs, so a test killed mid-run can have its
// leftovers removed by the next one. A zombie (killed, not yet reaped)
// counts as gone; a name of another shape never does.
func OwnerGone(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	pidStr, _, ok := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidStr)
	if !ok || err != nil || pid <= 0 {
		return false
	}
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false // cannot tell: keep its namespaces
	}
	// The state follows the parenthesised command name, which may itself
	// contain ") ".
	i := strings.LastIndex(string(stat), ") ")
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// reexecIn runs this test binary again, with the same arguments, inside ns.
func reexecIn(ns string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	args := append([]string{"netns", "exec", ns, self}, os.Args[1:]...)
	cmd := exec.Command("ip", args...)
	cmd.Stdin = os.Stdin
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), envNetns+"="+ns)
	// If we die, the child (ip execs the test binary) must not outlive us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if code := exitErr.ExitCode(); code >= 0 {
			return code, nil
		}
		return 1, nil // killed by a signal
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}
