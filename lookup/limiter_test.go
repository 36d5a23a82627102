package lookup

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// v6 returns address i inside the /64 numbered net.
func v6(net uint16, i uint32) netip.Addr {
	a := netip.MustParseAddr("2001:db8::").As16()
	binary.BigEndian.PutUint16(a[6:], net)
	binary.BigEndian.PutUint32(a[12:], i)
	return netip.AddrFrom16(a)
}

func v4(i uint32) netip.Addr {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], 0x0a000000+i)
	return netip.AddrFrom4(a)
}

// TestPutLimitPerSlash64: rotating addresses inside one IPv6 /64 shares
// one bucket; other /64s and IPv4 addresses have their own.
func TestPutLimitPerSlash64(t *testing.T) {
	s := NewServer(ServerOptions{})
	now := time.Unix(1e9, 0)
	s.now = func() time.Time { return now }
	id := newKey(t).Public()
	count := func(addr func(i uint32) netip.Addr, n uint32) (allowed int) {
		for i := range n {
			if s.allowPut(addr(i), id) {
				allowed++
			}
		}
		return allowed
	}
	if got := count(func(i uint32) netip.Addr { return v6(1, i) }, 1000); got != DefaultPutBurst {
		t.Fatalf("1000 addresses of one /64: %d PUTs allowed, want %d", got, DefaultPutBurst)
	}
	if got := count(func(uint32) netip.Addr { return v6(2, 1) }, 5); got != DefaultPutBurst {
		t.Fatalf("another /64: %d allowed", got)
	}
	if got := count(v4, 100); got != 100 {
		t.Fatalf("100 IPv4 addresses, one PUT each: %d allowed", got)
	}
	now = now.Add(DefaultPutInterval)
	if got := count(func(i uint32) netip.Addr { return v6(1, i+5000) }, 10); got != 1 {
		t.Fatalf("one interval later: %d allowed, want 1", got)
	}
}

// TestTokenBucketsBounded: the table never outgrows max, an exhausted
// client is not reset by others filling the table, and cycling through
// more clients than the table holds gains nothing.
func TestTokenBucketsBounded(t *testing.T) {
	const max = 100
	b := newTokenBuckets[netip.Addr](2, time.Second, max)
	now := time.Unix(1e9, 0)
	victim := v4(1 << 20)
	for b.allow(victim, now) {
	}
	for i := range uint32(max - 1) {
		b.allow(v4(i), now)
	}
	if b.allow(victim, now) {
		t.Fatal("exhausted client got a token after the table filled up")
	}

	b = newTokenBuckets[netip.Addr](2, time.Second, max)
	allowed := 0
	for range 10 {
		for i := range uint32(max + max/2) {
			if b.allow(v4(i), now) {
				allowed++
			}
		}
	}
	if allowed > 2*max || b.len() != max {
		t.Fatalf("cycling %d clients 10 times: %d allowed (at most %d), %d remembered", max+max/2, allowed, 2*max, b.len())
	}
	// Once the old entries have refilled, newcomers get a full burst.
	now = now.Add(2 * time.Second)
	if !b.allow(v4(1<<21), now) || !b.allow(v4(1<<21), now) {
		t.Fatal("newcomer after the flood did not get its burst")
	}
}

// TestPutRefreshOfStoredKey: a client over its limit may still refresh a
// key the server stores, within that key's own budget, but not publish a
// new one.
func TestPutRefreshOfStoredKey(t *testing.T) {
	s := NewServer(ServerOptions{})
	now := time.Unix(1e9, 0)
	s.now = func() time.Time { return now }
	nat := netip.MustParseAddr("198.51.100.7")
	stored := newKey(t)
	p, err := SignEndpointInfo(stored, testInfo(stored), 1, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	s.Store().Put(p)
	fresh := newKey(t).Public()
	for range DefaultPutBurst {
		if !s.allowPut(nat, fresh) {
			t.Fatal("burst refused")
		}
	}
	if s.allowPut(nat, fresh) {
		t.Fatal("new key allowed over the client's limit")
	}
	for i := range refreshBurst {
		if !s.allowPut(nat, stored.Public()) {
			t.Fatalf("refresh %d of a stored key refused", i+1)
		}
	}
	if s.allowPut(nat, stored.Public()) {
		t.Fatal("refreshes beyond the key's budget allowed")
	}
	now = now.Add(refreshInterval)
	for s.allowPut(nat, fresh) { // the client's own bucket refilled too
	}
	if !s.allowPut(nat, stored.Public()) {
		t.Fatal("refresh a minute later refused")
	}
	if s.allowPut(nat, stored.Public()) {
		t.Fatal("the key earned more than one refresh a minute")
	}
}
