package interop_test

import (
	"os"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// TestMain runs this package inside a fresh loopback-only network namespace.
func TestMain(m *testing.M) { os.Exit(interop.InNetns(m)) }
