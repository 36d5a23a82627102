package core

import "time"

// tokenBucket allows burst events at once and then one per every; it
// starts full. It bounds work a peer can make us do per unit of time.
type tokenBucket struct {
	burst  int
	every  time.Duration
	tokens int
	at     time.Time // when tokens was last refilled; zero: never used
}

func (b *tokenBucket) refill(now time.Time) {
	if b.at.IsZero() {
		b.tokens, b.at = b.burst, now
		return
	}
	if n := int(now.Sub(b.at) / b.every); n > 0 {
		b.tokens = min(b.burst, b.tokens+n)
		b.at = b.at.Add(time.Duration(n) * b.every)
	}
}

// take spends a token if one is left at now.
func (b *tokenBucket) take(now time.Time) bool {
	b.refill(now)
	if b.tokens == 0 {
		return false
	}
	b.tokens--
	return true
}

// nextToken is when the next token arrives once the bucket is empty.
func (b *tokenBucket) nextToken() time.Time { return b.at.Add(b.every) }

// empty reports whether no token is left (as of the last refill).
func (b *tokenBucket) empty() bool { return !b.at.IsZero() && b.tokens == 0 }
