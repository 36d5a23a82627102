//go:build linux

package portmaplab_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/alkdev/irohspoke/interop/natlab/portmaplab"
)

// TestMain checks root, ip, nft and miniupnpd; a missing one skips the
// package, or fails it with CI=true. The re-executed child skips the check.
func TestMain(m *testing.M) {
	flag.Parse()
	if *childSpec != "" {
		os.Exit(m.Run())
	}
	if err := requirements(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL portmaplab: requirement missing with CI=true: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("SKIP portmaplab: %v\n", err)
		os.Exit(0)
	}
	portmaplab.RemoveStale()
	os.Exit(m.Run())
}

func requirements() error {
	if os.Geteuid() != 0 {
		return errors.New("need root for ip netns, nft and miniupnpd")
	}
	for _, tool := range []string{"ip", "nft", "miniupnpd"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found in PATH (make natlab-deps installs nftables and miniupnpd-nftables)", tool)
		}
	}
	return nil
}
