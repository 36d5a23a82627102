package relay

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestCheckConnectionFrom: after a network change that took the
// connection's local address away, the client drops the connection and
// reconnects at once, without waiting out a ping timeout (at least
// 500 ms); while the address is still ours, the check is a ping and the
// connection stays.
func TestCheckConnectionFrom(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	states := make(chan Status, 16)
	c := dialClient(t, srv.URL, newKey(t), func(c *ClientConfig) {
		c.OnStatus = func(s Status) { states <- s }
	})
	waitFor(t, func() bool { _, ok := c.RTT(); return ok })
	next := func() Status {
		t.Helper()
		select {
		case s := <-states:
			return s
		case <-time.After(5 * time.Second):
			t.Fatal("no status change")
			return Status{}
		}
	}
	for next().State != StateConnected {
	}

	sent := c.pings.lastSent()
	c.CheckConnectionFrom([]netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("127.0.0.1")})
	waitFor(t, func() bool { _, out := c.pings.deadline(); return c.pings.lastSent().After(sent) && !out })
	if st := c.Status(); st.State != StateConnected {
		t.Fatalf("a check from an address we have: %v %v", st.State, st.Err)
	}

	c.CheckConnectionFrom([]netip.Addr{netip.MustParseAddr("192.0.2.1")})
	// Dropped for the address, not for a ping timeout (errDeadLink).
	if st := next(); st.State != StateReconnecting || !errors.Is(st.Err, errLocalAddrGone) {
		t.Fatalf("after our address went: %v %v", st.State, st.Err)
	}
	for next().State != StateConnected {
	}
}

// lastSent is when the last ping went out.
func (p *pingTracker) lastSent() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sentAt
}
