package lookup

import (
	"net/netip"
	"sync/atomic"
	"time"
)

// Response rate limiting (RRL) counts UDP responses per IPv4 /24 or IPv6
// /56: a spoofed flood naming a victim rarely stays on one address.
const (
	rrlBitsV4 = 24
	rrlBitsV6 = 56
)

// rrlAction is what to do with one UDP query.
type rrlAction int

const (
	rrlAnswer rrlAction = iota // within the rate
	rrlSlip                    // over it: a bare truncated answer (TC), no bigger than the query
	rrlDrop                    // over it: nothing
)

// responseLimiter decides per client prefix. Over the rate, every second
// query "slips" a truncated answer, so a real client behind a busy prefix
// retries over TCP (which cannot be spoofed) instead of timing out.
type responseLimiter struct {
	buckets *tokenBuckets[netip.Prefix]
	limited atomic.Uint64
}

func newResponseLimiter(perSecond, burst int) *responseLimiter {
	return &responseLimiter{buckets: newTokenBuckets[netip.Prefix](burst, time.Second/time.Duration(perSecond), maxLimiterEntries)}
}

func (l *responseLimiter) decide(ip netip.Addr, now time.Time) rrlAction {
	if l.buckets.allow(clientPrefix(ip, rrlBitsV4, rrlBitsV6), now) {
		return rrlAnswer
	}
	if l.limited.Add(1)%2 == 1 {
		return rrlSlip
	}
	return rrlDrop
}
