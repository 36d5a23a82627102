package endpointcore

import "time"

// rateLimiter allows limit events per second; it keeps stateless resets
// and Version Negotiation from becoming a traffic source.
type rateLimiter struct {
	window time.Time
	count  int
	limit  int
}

func (r *rateLimiter) allow(now time.Time) bool {
	if now.Sub(r.window) >= time.Second {
		r.window, r.count = now, 0
	}
	if r.count >= r.limit {
		return false
	}
	r.count++
	return true
}
