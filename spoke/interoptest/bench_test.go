package interoptest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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
