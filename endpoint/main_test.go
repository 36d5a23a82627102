package endpoint

import (
	"flag"
	"os"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// TestMain runs the package inside a loopback-only network namespace, as
// the real-iroh tests require. Fuzzing runs directly: it starts no iroh.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run())
	}
	os.Exit(interop.InNetns(m))
}
