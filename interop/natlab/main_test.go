//go:build linux

package natlab_test

import (
	"os"
	"testing"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// TestMain checks root, ip, nft, go and node; the lab namespaces are made
// by the tests themselves (see the package doc).
func TestMain(m *testing.M) { os.Exit(natlab.Main(m)) }
