package relay

import (
	"errors"
	"testing"
	"time"
)

// TestCheckConnection: with the default 15 s ping interval, a relay that
// stopped answering is found dead within the pong deadline of a check
// (3 × the measured loopback RTT, at least 500 ms), not at the next
// keepalive ping.
func TestCheckConnection(t *testing.T) {
	url := fakeRelay(t) // answers the first ping only
	lost := make(chan error, 16)
	c := dialClient(t, url, newKey(t), func(c *ClientConfig) {
		c.OnStatus = func(s Status) {
			if s.State == StateReconnecting {
				select {
				case lost <- s.Err:
				default:
				}
			}
		}
	})
	waitFor(t, func() bool { _, ok := c.RTT(); return ok })
	start := time.Now()
	c.CheckConnection()
	c.CheckConnection() // a second request while the ping is out adds nothing
	select {
	case err := <-lost:
		if !errors.Is(err, errDeadLink) {
			t.Fatalf("lost connection with %v", err)
		}
		t.Logf("dead link found %v after the check", time.Since(start).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		t.Fatal("CheckConnection did not find the dead link")
	}
}
