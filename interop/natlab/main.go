//go:build linux

package natlab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// ErrBuild means the irohspoke binary for the lab could not be built.
var ErrBuild = errors.New("natlab: building irohspoke failed")

// Main is the body of TestMain for lab tests. It checks the requirements
// (root, ip, nft, the go tool, node and the interop npm modules, installed
// here while the network is reachable), removes labs left behind by killed
// runs, runs the tests and removes the irohspoke binary built for them.
// A missing requirement skips the package, or fails it when CI=true.
func Main(m *testing.M) int {
	if err := requirements(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL natlab: requirement missing with CI=true: %v\n", err)
			return 1
		}
		fmt.Printf("SKIP natlab: NAT lab tests skipped: %v\n", err)
		return 0
	}
	removeStaleLabs()
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}

func requirements() error {
	if os.Geteuid() != 0 {
		return errors.New("need root for ip netns and nft")
	}
	for _, tool := range []string{"ip", "nft", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found in PATH (make deps installs nft)", tool)
		}
	}
	return interop.Prepare()
}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Irohspoke returns the path of the irohspoke command built (once per test
// binary, cgo-free) from this module, for running inside lab hosts.
func Irohspoke(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			build.err = err
			return
		}
		if build.dir, err = os.MkdirTemp("", "natlab-bin-"); err != nil {
			build.err = fmt.Errorf("%w: %v", ErrBuild, err)
			return
		}
		bin := filepath.Join(build.dir, "irohspoke")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/irohspoke")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("%w: %v\n%s", ErrBuild, err, out)
			return
		}
		build.bin = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuild, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no go.mod above the working directory", ErrBuild)
		}
		dir = parent
	}
}
