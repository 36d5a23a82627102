package quic

import (
	"context"
	"io"
	"runtime"
	"testing"

	quicgo "github.com/quic-go/quic-go"
)

const benchBulk = 16 << 20

// sinkStreams reads every accepted stream to its end and reports each
// completed stream on done.
func sinkStreams(accept func(context.Context) (io.Reader, error), done chan<- error) {
	ctx := context.Background()
	for {
		r, err := accept(ctx)
		if err != nil {
			return
		}
		go func() {
			_, err := io.Copy(io.Discard, r)
			done <- err
		}()
	}
}

func benchBulk16(b *testing.B, open func() (io.WriteCloser, error), done <-chan error) {
	buf := make([]byte, 64<<10)
	b.SetBytes(benchBulk)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := open()
		if err != nil {
			b.Fatal(err)
		}
		for sent := 0; sent < benchBulk; sent += len(buf) {
			if _, err := w.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		w.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBulkOurs: one stream of 16 MiB per op, ours↔ours on loopback.
func BenchmarkBulkOurs(b *testing.B) {
	c, s, _, _ := pair(b, nil, nil)
	done := make(chan error, 1)
	go sinkStreams(func(ctx context.Context) (io.Reader, error) { return s.AcceptStream(ctx) }, done)
	benchBulk16(b, func() (io.WriteCloser, error) { return c.OpenStream(context.Background()) }, done)
	st := c.Stats()
	b.ReportMetric(float64(st.PacketsLost), "lost")
}

func goPair(b *testing.B) (client, server *quicgo.Conn) {
	ck, sk := testKey(b, 30), testKey(b, 31)
	ln, err := quicgo.ListenAddr("127.0.0.1:0", goTLSConfig(b, sk.PrivateKey(), ck.Public().PublicKey()), goQUICConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	ctx := testCtx(b)
	accepted := make(chan *quicgo.Conn, 1)
	go func() {
		c, _ := ln.Accept(ctx)
		accepted <- c
	}()
	client, err = quicgo.DialAddr(ctx, ln.Addr().String(), goTLSConfig(b, ck.PrivateKey(), sk.Public().PublicKey()), goQUICConfig())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	b.Cleanup(func() { client.CloseWithError(0, ""); server.CloseWithError(0, "") })
	return client, server
}

// BenchmarkBulkQuicGo is BenchmarkBulkOurs with quic-go at both ends.
func BenchmarkBulkQuicGo(b *testing.B) {
	c, s := goPair(b)
	done := make(chan error, 1)
	go sinkStreams(func(ctx context.Context) (io.Reader, error) { return s.AcceptStream(ctx) }, done)
	benchBulk16(b, func() (io.WriteCloser, error) { return c.OpenStreamSync(context.Background()) }, done)
}

// BenchmarkHandshakeOurs: a full handshake (dial until established) per op.
func BenchmarkHandshakeOurs(b *testing.B) {
	sep := newTestEndpoint(b, &Config{ALPNs: []string{testALPN}})
	cep := newTestEndpoint(b, nil)
	to := addrOf(b, sep.LocalAddr())
	ctx := context.Background()
	go func() {
		for {
			c, err := sep.Accept(ctx)
			if err != nil {
				return
			}
			c.Close(0, "")
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := cep.Dial(ctx, to, sep.ID(), testALPN)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Close(0, "")
		b.StartTimer()
	}
}

// BenchmarkHandshakeQuicGo is BenchmarkHandshakeOurs with quic-go.
func BenchmarkHandshakeQuicGo(b *testing.B) {
	ck, sk := testKey(b, 32), testKey(b, 33)
	ln, err := quicgo.ListenAddr("127.0.0.1:0", goTLSConfig(b, sk.PrivateKey(), ck.Public().PublicKey()), goQUICConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ctx := context.Background()
	go func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			c.CloseWithError(0, "")
		}
	}()
	tlsConf := goTLSConfig(b, ck.PrivateKey(), sk.Public().PublicKey())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := quicgo.DialAddr(ctx, ln.Addr().String(), tlsConf, goQUICConfig())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.CloseWithError(0, "")
		b.StartTimer()
	}
}

// BenchmarkAllocsPerPacket runs a bulk transfer and reports heap
// allocations (both endpoints, whole process) per packet sent or received.
func BenchmarkAllocsPerPacket(b *testing.B) {
	c, s, _, _ := pair(b, nil, nil)
	done := make(chan error, 1)
	go sinkStreams(func(ctx context.Context) (io.Reader, error) { return s.AcceptStream(ctx) }, done)
	before, after := c.Stats(), s.Stats()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	benchBulk16(b, func() (io.WriteCloser, error) { return c.OpenStream(context.Background()) }, done)
	runtime.ReadMemStats(&m1)
	cs, ss := c.Stats(), s.Stats()
	packets := (cs.PacketsSent - before.PacketsSent) + (cs.PacketsReceived - before.PacketsReceived) +
		(ss.PacketsSent - after.PacketsSent) + (ss.PacketsReceived - after.PacketsReceived)
	if packets > 0 {
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(packets), "allocs/packet")
		b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(packets), "B/packet")
	}
}
