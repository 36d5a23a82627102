package endpoint

import (
	"maps"
	"net/netip"
	"slices"
	"sync"

	"github.com/alkdev/irohspoke/nat/netmon"
)

// hostAddrs holds the addresses of the interfaces that are up. Reading
// them takes netlink dumps, and every path manager wake, announcement
// and round wants them: with a network monitor they come from its
// snapshots (its baseline, then each change's); without one they are
// read at each use, since nothing would tell of a change.
type hostAddrs struct {
	mu     sync.Mutex
	cached bool // a monitor runs: addrs stays until refresh
	addrs  []netip.Addr
}

// get returns the host's addresses (nil if they cannot be read).
func (h *hostAddrs) get() []netip.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.cached {
		return readHosts()
	}
	return h.addrs
}

// cache keeps addrs from now on, until the next cache or refresh.
func (h *hostAddrs) cache(addrs []netip.Addr) {
	h.mu.Lock()
	h.cached, h.addrs = true, addrs
	h.mu.Unlock()
}

// refresh re-reads a cached list (a NetworkChanged from the application,
// which brings no snapshot).
func (h *hostAddrs) refresh() {
	h.mu.Lock()
	cached := h.cached
	h.mu.Unlock()
	if cached {
		h.cache(readHosts())
	}
}

// readHosts is readHostAddrs; tests count the reads.
var readHosts = readHostAddrs

// readHostAddrs lists the addresses of the interfaces that are up, nil if
// they cannot be read.
func readHostAddrs() []netip.Addr {
	st, err := netmon.ReadState()
	if err != nil {
		return nil
	}
	return hostAddrsOf(st)
}

// hostAddrsOf lists the addresses of st's interfaces that are up, in
// interface order.
func hostAddrsOf(st netmon.State) []netip.Addr {
	ifcs := slices.SortedFunc(maps.Values(st.Interfaces), func(a, b netmon.Interface) int { return a.Index - b.Index })
	var out []netip.Addr
	for _, ifc := range ifcs {
		if !ifc.Up {
			continue
		}
		for _, p := range ifc.Addrs {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
