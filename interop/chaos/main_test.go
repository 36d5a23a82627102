//go:build linux

package chaos_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/alkdev/irohspoke/interop/chaos"
	"github.com/alkdev/irohspoke/interop/natlab"
)

// TestMain runs the tests (they need what the NAT lab needs: root, ip, nft,
// node), or, started as "chaos.test chaos-spoke …" inside a lab host, the
// library spoke.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == chaos.SpokeCommand {
		ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		os.Exit(chaos.RunSpoke(ctx, os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(natlab.Main(m))
}
