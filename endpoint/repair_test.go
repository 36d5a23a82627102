package endpoint

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/alkdev/irohspoke/quic"
)

func TestRelayRepairDecision(t *testing.T) {
	const r1, r2, r3 = "http://127.0.0.1:1001/", "http://127.0.0.1:1002/", "http://127.0.0.1:1003/"
	relayPath := func(id quic.PathID, url string) quic.PathInfo {
		return quic.PathInfo{ID: id, Addr: quic.Addr{Relay: quic.RelayAddr{URL: url}}, Validated: true}
	}
	direct := quic.PathInfo{ID: 9, Addr: quic.UDPAddr(netip.MustParseAddrPort("127.0.0.1:5000")), Validated: true}
	downSet := map[string]bool{r1: true}
	down := func(u string) bool { return downSet[u] }

	for _, c := range []struct {
		name  string
		paths []quic.PathInfo
		want  bool
	}{
		{"only a dead relay path", []quic.PathInfo{relayPath(0, r1)}, true},
		{"a live relay path too", []quic.PathInfo{relayPath(0, r1), relayPath(1, r2)}, false},
		{"a direct path", []quic.PathInfo{relayPath(0, r1), direct}, false},
		{"no paths", nil, false},
		{"dead path abandoned", []quic.PathInfo{{ID: 0, Addr: relayPath(0, r1).Addr, Validated: true, Abandoned: true}}, false},
	} {
		if got := needsRelayRepair(c.paths, down); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}

	paths := []quic.PathInfo{relayPath(0, r1), relayPath(1, r3)}
	got := repairTargets([]string{r1, "http://127.0.0.1:1002", r2, r3, "gopher://x"}, paths, down)
	if !slices.Equal(got, []string{r2}) {
		t.Fatalf("targets %v, want only %s (r1 down, r3 has a path, duplicates and bad URLs dropped)", got, r2)
	}
}
