package endpoint

import (
	"flag"
	"os"
	"os/exec"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// TestMain runs the package inside a loopback-only network namespace when
// that is possible (root, and node for the real-iroh tests), so that real
// iroh runs isolated and an unspecified bind address sees loopback only.
// Elsewhere (no root, IROHSPOKE_SKIP_INTEROP set, fuzzing) the tests run
// directly: the tests that need the namespace call interop.RequireNetns,
// which skips them (and fails them with CI=true); the rest bind 127.0.0.1.
func TestMain(m *testing.M) {
	flag.Parse()
	fuzzing := flag.Lookup("test.fuzz") != nil && flag.Lookup("test.fuzz").Value.String() != ""
	_, nodeErr := exec.LookPath("node")
	if os.Getenv("IROHSPOKE_SKIP_INTEROP") == "" && !fuzzing && os.Geteuid() == 0 && nodeErr == nil {
		os.Exit(interop.InNetns(m))
	}
	os.Exit(m.Run())
}
