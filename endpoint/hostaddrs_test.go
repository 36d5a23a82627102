package endpoint

import (
	"net/netip"
	"testing"
)

// TestHostAddrsReadOnlyAtChanges: without a monitor every use reads the
// interfaces; with one, only caching and each refresh (NetworkChanged) do.
func TestHostAddrsReadOnlyAtChanges(t *testing.T) {
	reads := 0
	addr := netip.MustParseAddr("192.0.2.1")
	readHosts = func() []netip.Addr { reads++; return []netip.Addr{addr} }
	t.Cleanup(func() { readHosts = readHostAddrs })

	var h hostAddrs
	h.get()
	h.get()
	if reads != 2 {
		t.Fatalf("without a monitor: %d reads for 2 uses, want 2", reads)
	}
	h.cache(readHosts())
	for range 5 {
		if got := h.get(); len(got) != 1 || got[0] != addr {
			t.Fatalf("cached addresses %v", got)
		}
	}
	if reads != 3 {
		t.Fatalf("with a monitor: %d reads after caching and 5 uses, want 3", reads)
	}
	addr = netip.MustParseAddr("192.0.2.2")
	h.refresh()
	if got := h.get(); reads != 4 || got[0] != addr {
		t.Fatalf("after refresh: %d reads, addresses %v", reads, got)
	}
}
