//go:build linux

package inetlab

import (
	"os"
	"testing"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
)

// Main is the body of TestMain for lab tests: natlab.Main (requirements,
// which fail rather than skip with CI=true; the sweep of labs left by
// killed runs; the irohspoke build), plus the sweep of the /etc/netns
// files of those labs.
func Main(m *testing.M) int {
	removeStaleEtc()
	return natlab.Main(m)
}

// removeStaleEtc deletes /etc/netns/<ns> of labs whose process is gone.
func removeStaleEtc() {
	entries, err := os.ReadDir(etcNetns)
	if err != nil {
		return
	}
	for _, e := range entries {
		if interop.OwnerGone(e.Name(), netnsPrefix) {
			removeNetnsEtc(e.Name())
		}
	}
}
