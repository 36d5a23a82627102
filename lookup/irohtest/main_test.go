// Package irohtest checks our address lookup against real iroh: an iroh
// endpoint with the n0 preset finds a Go hub by EndpointId alone through
// our DNS server.
package irohtest

import (
	"os"
	"testing"

	"github.com/alkdev/irohspoke/interop"
)

// resolver is the namespace's only nameserver; the tests serve DNS on
// resolver:53, so the system resolver of every process in the namespace
// (iroh's included) asks us.
const resolver = "127.0.0.1"

func TestMain(m *testing.M) {
	os.Exit(interop.InNetnsWith(m, interop.NetnsOptions{Resolver: resolver}))
}
