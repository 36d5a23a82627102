package endpoint

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// benchPair is a client connection to a server that echoes or sinks
// streams, either directly or through our relay only.
func benchPair(b *testing.B, relayed bool) *quic.Conn {
	b.Helper()
	r := startRelay(b)
	ctx := testCtx(b, 20*time.Second)
	srv := relayEchoServer(b, ctx, r.URL, Options{})
	cli := bind(b, Options{})
	tg := identity.EndpointAddr{ID: srv.ID(), Addrs: srv.Addrs()}
	if relayed {
		tg = identity.EndpointAddr{ID: srv.ID(), Relays: []string{r.URL}}
	}
	c, err := cli.Dial(ctx, tg, testALPN)
	if err != nil {
		b.Fatal(err)
	}
	if c.RemoteAddr().IsRelay() != relayed {
		b.Fatalf("path %v", c.RemoteAddr())
	}
	return c
}

func pathName(relayed bool) string {
	if relayed {
		return "relay"
	}
	return "direct"
}

// BenchmarkStreamThroughput: one-way stream bulk, client to server (the
// echo comes back on the same stream and is drained concurrently).
func BenchmarkStreamThroughput(b *testing.B) {
	for _, relayed := range []bool{false, true} {
		b.Run(pathName(relayed), func(b *testing.B) {
			c := benchPair(b, relayed)
			s, err := c.OpenStream(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			const chunk = 64 << 10
			buf := make([]byte, chunk)
			done := make(chan error, 1)
			go func() {
				_, err := io.CopyN(io.Discard, s, int64(b.N)*chunk)
				done <- err
			}()
			b.SetBytes(chunk)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := c.Stats()
			b.ReportMetric(float64(st.PacketsLost), "lost")
		})
	}
}

// BenchmarkPingPong: round trip of a 64-byte message on a stream.
func BenchmarkPingPong(b *testing.B) {
	for _, relayed := range []bool{false, true} {
		b.Run(pathName(relayed), func(b *testing.B) {
			c := benchPair(b, relayed)
			s, err := c.OpenStream(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			msg := make([]byte, 64)
			got := make([]byte, 64)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(s, got); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/rtt")
		})
	}
}
