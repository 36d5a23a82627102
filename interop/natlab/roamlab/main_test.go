//go:build linux

package roamlab_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// TestMain checks what natlab needs (root, ip, nft, go, node and the
// interop modules) plus miniupnpd; a missing one skips the package, or
// fails it with CI=true.
func TestMain(m *testing.M) {
	if _, err := exec.LookPath("miniupnpd"); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL roamlab: miniupnpd not found with CI=true (make natlab-deps installs miniupnpd-nftables)")
			os.Exit(1)
		}
		fmt.Println("SKIP roamlab: miniupnpd not found (make natlab-deps installs miniupnpd-nftables)")
		os.Exit(0)
	}
	os.Exit(natlab.Main(m))
}
