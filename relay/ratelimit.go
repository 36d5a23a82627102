package relay

import "time"

// tokenBucket limits the bytes read from one client. It is used by that
// client's reader goroutine only, so it needs no locking. Refill is
// continuous rather than iroh's 100 ms steps; the long-run rate is the same.
type tokenBucket struct {
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst int64, now time.Time) *tokenBucket {
	if burst <= 0 {
		burst = max(rate/10, 1) // iroh's default burst
	}
	return &tokenBucket{rate: float64(rate), burst: float64(burst), tokens: float64(burst), last: now}
}

// take consumes n bytes and returns how long the reader must pause before
// reading on (0 if the bucket covered them). A message larger than the
// burst simply drives the bucket negative, so the wait still reflects it.
func (b *tokenBucket) take(n int, now time.Time) time.Duration {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}
