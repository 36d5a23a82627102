package interoptest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

var kib = []byte(`"` + strings.Repeat("x", 1022) + `"`) // 1 KiB payload

// roundTrips measures n sequential round trips (latency percentiles) and
// then n pipelined ones with up to 32 in flight (events per second).
func roundTrips(b *testing.B, tg *spoke.Target, n int) {
	echo := make(chan struct{}, 1024)
	remove := tg.AddListener("bench.echo", func(wire.Envelope) { echo <- struct{}{} })
	defer remove()
	ctx := context.Background()
	lat := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if err := tg.Dispatch(ctx, wire.Envelope{Type: "bench", ID: fmt.Sprint(i), Payload: kib}); err != nil {
			b.Fatal(err)
		}
		<-echo
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	start := time.Now()
	inflight := 0
	for i := range n {
		for inflight >= 32 {
			<-echo
			inflight--
		}
		if err := tg.Dispatch(ctx, wire.Envelope{Type: "bench", ID: fmt.Sprint(i), Payload: kib}); err != nil {
			b.Fatal(err)
		}
		inflight++
	}
	for ; inflight > 0; inflight-- {
		<-echo
	}
	rate := float64(n) / time.Since(start).Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkGoSpokeIrohHub(b *testing.B) {
	h := interop.StartHub(b, interop.HubOptions{})
	tg := dial(b, newEndpoint(b, quic.Config{}), irohHubAddr(b, h))
	for b.Loop() {
		roundTrips(b, tg, 1000)
	}
}

func BenchmarkGoSpokeGoHub(b *testing.B) {
	tg := dial(b, newEndpoint(b, quic.Config{}), startGoHub(b))
	for b.Loop() {
		roundTrips(b, tg, 1000)
	}
}

// BenchmarkNodeSpokeIrohHub: the iroh spoke measures its own sequential
// round trips.
func BenchmarkNodeSpokeIrohHub(b *testing.B) {
	h := interop.StartHub(b, interop.HubOptions{})
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		start := time.Now()
		res, err := interop.RunSpoke(ctx, interop.SpokeOptions{ID: h.EndpointID, Addrs: h.Addrs, Count: 1000, Size: 1024})
		cancel()
		if err != nil || res.RTTMs == nil {
			b.Fatalf("%+v %v", res, err)
		}
		b.ReportMetric(res.RTTMs.Median, "p50-ms")
		b.ReportMetric(res.RTTMs.Max, "max-ms")
		b.ReportMetric(1000/time.Since(start).Seconds(), "events/s(incl.startup)")
	}
}

// BenchmarkHubIdleSpokeHeap connects idle spokes to a Go hub and reports
// the heap per connection: for the whole pair (spoke and hub in this
// process) and for the hub alone (the pair minus a bare QUIC server that
// accepts the same connections and streams and holds them).
func BenchmarkHubIdleSpokeHeap(b *testing.B) {
	const n = 50
	for b.Loop() {
		pair := heapPerConn(b, n, true)
		bare := heapPerConn(b, n, false)
		b.ReportMetric(pair/1024, "KiB/pair")
		b.ReportMetric(bare/1024, "KiB/bare-quic-pair")
		b.ReportMetric((pair-bare)/1024, "KiB/hub-overhead")
	}
}

func heapPerConn(b *testing.B, n int, withHub bool) float64 {
	srv := newEndpoint(b, quic.Config{ALPNs: []string{hub.ALPN}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := hub.New(hub.Options{})
	if withHub {
		go h.Serve(ctx, srv)
		defer h.Close()
	} else {
		go func() {
			for {
				c, err := srv.Accept(ctx)
				if err != nil {
					return
				}
				go c.AcceptStream(ctx)
			}
		}()
	}
	cli := newEndpoint(b, quic.Config{})
	addr := srv.LocalAddr().String()
	before := heapInUse()
	var conns []*quic.Conn
	for range n {
		c, err := cli.Dial(ctx, quic.UDPAddr(mustAddrPort(addr)), srv.ID(), hub.ALPN)
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.OpenStream(ctx)
		if err != nil {
			b.Fatal(err)
		}
		f, _ := wire.AppendFrame(nil, wire.Envelope{Type: "hi", ID: "x"})
		s.Write(f)
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond) // let the hub register every spoke
	after := heapInUse()
	for _, c := range conns {
		c.Close(0, "")
	}
	return float64(after-before) / float64(n)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
