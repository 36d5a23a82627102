package endpointcore

import (
	"bytes"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// FuzzRoute checks the classifier and the answers built for arbitrary
// datagrams: no panic, resets shorter than their triggers, Version
// Negotiation replies that parse back, and no answer from Handle larger
// than what it answers (no amplification).
func FuzzRoute(f *testing.F) {
	f.Add([]byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	f.Add(append([]byte{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0}, make([]byte, 1200)...))
	f.Add(append([]byte{0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0xd0}, make([]byte, 1200)...))
	f.Add([]byte{0xe0, 0, 0, 0, 1, 0, 0, 0x41})
	f.Add([]byte{})
	e, err := New[int](Config{ResetKey: new(core.ResetKey), ResponsesPerSecond: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	from := udp("192.0.2.1:1")
	f.Fuzz(func(t *testing.T, b []byte) {
		class, h := classify(b)
		switch class {
		case classShort:
			if len(h.DCID) != core.LocalCIDLen {
				t.Fatalf("short header DCID %d bytes", len(h.DCID))
			}
			var key core.ResetKey
			pkt, ok := appendStatelessReset(nil, len(b), key.Token(h.DCID), bytes.NewReader(make([]byte, 64)))
			if ok && (len(pkt) >= len(b) || len(pkt) < minResetSize || pkt[0]&0xc0 != 0x40) {
				t.Fatalf("reset of %d bytes for a %d-byte trigger", len(pkt), len(b))
			}
		case classVersionNeg:
			pkt, ok := appendVersionNegotiation(nil, &h, 0x3f)
			if !ok {
				return
			}
			vh, err := wire.ParseHeader(pkt, core.LocalCIDLen)
			if err != nil || vh.Type != wire.PacketVersionNegotiation || len(pkt) > len(b) {
				t.Fatalf("bad VN %x: %v", pkt, err)
			}
		}
		r := e.Handle(now, from, append([]byte(nil), b...), nil)
		if r.Action == Respond && len(r.Response) > len(b) {
			t.Fatalf("a %d-byte answer to %d bytes", len(r.Response), len(b))
		}
		if r.Action == Deliver || r.Action == NewConn {
			t.Fatalf("%v without connections or a server config", r.Action)
		}
	})
}

func TestRateLimiter(t *testing.T) {
	r := rateLimiter{limit: 3}
	now := time.Unix(1000, 0)
	for range 3 {
		if !r.allow(now) {
			t.Fatal("denied within the limit")
		}
	}
	if r.allow(now) {
		t.Fatal("allowed beyond the limit")
	}
	if !r.allow(now.Add(time.Second)) {
		t.Fatal("no new allowance after a second")
	}
}

// BenchmarkStatelessResetCheck is the cost of an unroutable short-header
// datagram at an endpoint holding 1000 connections with 4 reset tokens
// each: it must not grow with the number of connections (RFC 9000
// §10.3.1 makes every such datagram a possible reset).
func BenchmarkStatelessResetCheck(b *testing.B) {
	e, err := New[int](Config{ResetKey: new(core.ResetKey)})
	if err != nil {
		b.Fatal(err)
	}
	n := newSimNet(b, 9)
	for c := range 1000 {
		e.conns[c] = &connEntry{}
		var tokens []core.ResetToken
		for range 4 {
			var t core.ResetToken
			n.rng.Read(t[:])
			tokens = append(tokens, t)
		}
		e.SetResetTokens(c, tokens)
	}
	d := make([]byte, 60)
	n.rng.Read(d)
	d[0] = 0x40
	e.Close() // no answers: measure the look-ups
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if r := e.Handle(n.now, clientAddr, d, nil); r.Action != Drop {
			b.Fatalf("a random datagram: %v", r.Action)
		}
	}
}
