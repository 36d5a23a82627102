package quic

import (
	"crypto/rand"
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

// dialMany opens n connections from cep to sep and returns the server ends.
func dialMany(b *testing.B, cep, sep *Endpoint, n int) []*Conn {
	b.Helper()
	to := addrOf(b, sep.LocalAddr())
	out := make([]*Conn, 0, n)
	for range n {
		_, s := dialAccept(b, cep, sep, to)
		out = append(out, s)
	}
	return out
}

// BenchmarkStatelessResetCheck is the cost of asking whether an
// unroutable short-header datagram is a stateless reset for one of 1000
// connections (RFC 9000 §10.3.1): every such datagram pays it.
func BenchmarkStatelessResetCheck(b *testing.B) {
	sep := newTestEndpoint(b, &Config{ALPNs: []string{testALPN}})
	cep := newTestEndpoint(b, nil)
	dialMany(b, cep, sep, 1000)
	d := make([]byte, 60)
	rand.Read(d)
	d[0] = 0x40
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if sep.resetTarget(d) != nil {
			b.Fatal("a random datagram matched a reset token")
		}
	}
}

// TestResetIndex: every token the peer gave a connection routes a
// reset-shaped datagram to it, and the index empties when it closes.
func TestResetIndex(t *testing.T) {
	c, s, cep, sep := pair(t, nil, nil)
	waitFor(t, func() bool { return len(tokensOf(s)) > 0 && len(tokensOf(c)) > 0 })
	for _, side := range []struct {
		conn *Conn
		ep   *Endpoint
	}{{c, cep}, {s, sep}} {
		for _, tok := range tokensOf(side.conn) {
			d := append(make([]byte, 30), tok[:]...)
			if got := side.ep.resetTarget(d); got != side.conn {
				t.Fatalf("token %x routed to %p, want %p", tok, got, side.conn)
			}
		}
	}
	c.Close(0, "")
	<-s.doneCh
	<-c.doneCh
	for _, e := range []*Endpoint{cep, sep} {
		e.mu.Lock()
		n := len(e.resetIdx)
		e.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d tokens left in the index of a closed endpoint", n)
		}
	}
}

func tokensOf(c *Conn) []core.ResetToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.AppendResetTokens(nil)
}
