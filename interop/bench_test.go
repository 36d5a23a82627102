package interop_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
)

// BenchmarkConnectToIroh measures the time from Dial to a completed
// handshake with a real iroh hub on loopback: ours per iteration (ns/op and
// go-connect-ms, the median), and the real iroh Node spoke's own connect
// time (node-connect-ms, median of 10 runs) in the same run, so the ratio
// go/node compares like with like on the same machine state.
func BenchmarkConnectToIroh(b *testing.B) {
	interop.RequireNetns(b)
	hub := interop.StartHub(b, interop.HubOptions{})
	to, id := hubTarget(b, hub)
	ep := newQUICEndpoint(b, nil)
	ctx := context.Background()

	var node []float64
	v4, _ := hub.AddrV4()
	for range 10 {
		res, err := interop.RunSpoke(ctx, interop.SpokeOptions{ID: hub.EndpointID, Addrs: []netip.AddrPort{v4}, Count: 1})
		if err != nil || res.ConnectMs == nil {
			b.Fatalf("node spoke: %v %+v", err, res)
		}
		node = append(node, *res.ConnectMs)
	}

	var ours []float64
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		conn, err := ep.Dial(ctx, to, id, "alkpubsub/1")
		if err != nil {
			b.Fatal(err)
		}
		ours = append(ours, float64(time.Since(start))/float64(time.Millisecond))
		b.StopTimer()
		conn.Close(0, "")
		b.StartTimer()
	}
	b.StopTimer()
	g, n := median(ours), median(node)
	b.ReportMetric(g, "go-connect-ms")
	b.ReportMetric(n, "node-connect-ms")
	b.ReportMetric(g/n, "go/node")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
