package lookup

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// tokenBuckets rate-limits per key: each key starts with burst tokens and
// earns one more every interval. It remembers at most max keys; a new key
// beyond that evicts the least recently seen one. If that one had not
// refilled yet, forgetting it would hand out a fresh burst, so the
// newcomer starts empty instead: a client cycling through more addresses
// than the table holds gains nothing, and under such a flood new clients
// wait one interval for their first token.
type tokenBuckets[K comparable] struct {
	burst    float64
	interval time.Duration
	max      int

	mu      sync.Mutex
	entries map[K]*list.Element // of *tokenBucket[K]
	lru     list.List           // front = most recently seen
}

type tokenBucket[K comparable] struct {
	key    K
	tokens float64
	last   time.Time
}

func newTokenBuckets[K comparable](burst int, interval time.Duration, max int) *tokenBuckets[K] {
	return &tokenBuckets[K]{burst: float64(burst), interval: interval, max: max, entries: make(map[K]*list.Element)}
}

// allow takes one token from k's bucket, reporting whether there was one.
func (b *tokenBuckets[K]) allow(k K, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	el, ok := b.entries[k]
	if !ok {
		tokens := b.burst
		if b.lru.Len() >= b.max {
			old := b.lru.Remove(b.lru.Back()).(*tokenBucket[K])
			delete(b.entries, old.key)
			if b.refilled(old, now) < b.burst {
				tokens = 0
			}
		}
		el = b.lru.PushFront(&tokenBucket[K]{key: k, tokens: tokens, last: now})
		b.entries[k] = el
	}
	b.lru.MoveToFront(el)
	tb := el.Value.(*tokenBucket[K])
	if now.After(tb.last) {
		tb.tokens = b.refilled(tb, now)
		tb.last = now
	}
	if tb.tokens < 1 {
		return false
	}
	tb.tokens--
	return true
}

// refilled is tb's token count at now.
func (b *tokenBuckets[K]) refilled(tb *tokenBucket[K], now time.Time) float64 {
	if !now.After(tb.last) {
		return tb.tokens
	}
	return min(b.burst, tb.tokens+float64(now.Sub(tb.last))/float64(b.interval))
}

// len is the number of remembered keys.
func (b *tokenBuckets[K]) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lru.Len()
}

// Client prefixes: one client is one IPv4 address or one IPv6 /64 (what a
// single host or site typically gets), so rotating addresses inside a /64
// buys nothing.
const (
	clientBitsV4 = 32
	clientBitsV6 = 64
)

// clientPrefix is the prefix that identifies ip's client at the given
// IPv4/IPv6 granularity; mapped IPv4 counts as IPv4.
func clientPrefix(ip netip.Addr, bits4, bits6 int) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	bits := bits6
	if ip.Is4() {
		bits = bits4
	}
	p, err := ip.Prefix(bits)
	if err != nil { // invalid address: one shared bucket
		return netip.Prefix{}
	}
	return p
}

// hostPrefix is clientPrefix at host granularity (/32, /64).
func hostPrefix(ip netip.Addr) netip.Prefix { return clientPrefix(ip, clientBitsV4, clientBitsV6) }
