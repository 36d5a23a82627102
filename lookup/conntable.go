package lookup

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// connTable admits TCP connections under a per-client cap and a total
// cap. When the table is full, a newcomer evicts the connection that has
// been idle the longest (RFC 7766 §6.2.3 lets a server close idle DNS
// connections under pressure), so one client cannot hold every slot.
type connTable struct {
	perClient, total int

	mu       sync.Mutex
	conns    map[net.Conn]*connEntry
	byClient map[netip.Prefix]int
}

type connEntry struct {
	client    netip.Prefix
	idleSince time.Time // zero while the connection is busy
}

// Why admit refused a connection or what it had to do, for logs.
const (
	refusedPerClient = "too many connections from this client"
	refusedTableFull = "too many connections, none idle"
	evictedIdle      = "evicted the longest idle connection"
)

func newConnTable(perClient, total int) *connTable {
	return &connTable{perClient: perClient, total: total,
		conns: make(map[net.Conn]*connEntry), byClient: make(map[netip.Prefix]int)}
}

// admit registers c (idle since now) or says why not; the caller closes a
// refused c. An evicted connection is closed here, and why says so.
func (t *connTable) admit(c net.Conn, now time.Time) (ok bool, why string) {
	client := hostPrefix(addrOf(c.RemoteAddr()))
	var victim net.Conn
	t.mu.Lock()
	switch {
	case t.byClient[client] >= t.perClient:
		t.mu.Unlock()
		return false, refusedPerClient
	case len(t.conns) >= t.total:
		if victim = t.longestIdle(); victim == nil {
			t.mu.Unlock()
			return false, refusedTableFull
		}
		t.removeLocked(victim)
		why = evictedIdle
	}
	t.conns[c] = &connEntry{client: client, idleSince: now}
	t.byClient[client]++
	t.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return true, why
}

// longestIdle is the idle connection with the oldest idleSince, or nil.
func (t *connTable) longestIdle() net.Conn {
	var (
		oldest net.Conn
		since  time.Time
	)
	for c, e := range t.conns {
		if !e.idleSince.IsZero() && (oldest == nil || e.idleSince.Before(since)) {
			oldest, since = c, e.idleSince
		}
	}
	return oldest
}

// setIdle marks c idle (waiting for its client) or busy.
func (t *connTable) setIdle(c net.Conn, idle bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.conns[c]; ok {
		e.idleSince = time.Time{}
		if idle {
			e.idleSince = now
		}
	}
}

// remove forgets c; removing an unknown or evicted c does nothing.
func (t *connTable) remove(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(c)
}

func (t *connTable) removeLocked(c net.Conn) {
	e, ok := t.conns[c]
	if !ok {
		return
	}
	delete(t.conns, c)
	if t.byClient[e.client]--; t.byClient[e.client] <= 0 {
		delete(t.byClient, e.client)
	}
}

// closeAll closes every registered connection.
func (t *connTable) closeAll() {
	t.mu.Lock()
	conns := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// len is the number of registered connections.
func (t *connTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// addrOf extracts the IP of a TCP or UDP address (invalid otherwise).
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap.Addr().Unmap()
}
