package relay

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/relay/relayproto"
)

// pingTracker follows iroh's ping tracker: at most one ping outstanding,
// the pong deadline derived from the last measured RTT. It is shared by a
// connection's reader (pongs) and writer (pings, timeouts).
type pingTracker struct {
	mu          sync.Mutex
	outstanding bool
	data        [relayproto.PingDataLen]byte
	sentAt      time.Time
	rtt         time.Duration
	measured    bool
}

// reset forgets everything (a new connection).
func (p *pingTracker) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outstanding, p.measured, p.rtt = false, false, 0
}

// start records a new ping and returns its payload.
func (p *pingTracker) start(now time.Time) [relayproto.PingDataLen]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = rand.Read(p.data[:])
	p.outstanding, p.sentAt = true, now
	return p.data
}

// pong settles the outstanding ping if data matches and reports the RTT.
func (p *pingTracker) pong(data [relayproto.PingDataLen]byte, now time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.outstanding || data != p.data {
		return 0, false
	}
	p.outstanding = false
	p.rtt, p.measured = now.Sub(p.sentAt), true
	return p.rtt, true
}

// deadline is when the outstanding ping times out (ok false if none).
func (p *pingTracker) deadline() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.outstanding {
		return time.Time{}, false
	}
	return p.sentAt.Add(relayproto.PingTimeout(p.rtt, p.measured)), true
}

// RTT returns the last measured round-trip time.
func (p *pingTracker) RTT() (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rtt, p.measured
}
