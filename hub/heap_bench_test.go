package hub_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// The idle-spoke heap benchmark runs its spokes in a child process (this
// test binary again, selected by these variables), so that only the hub's
// side of each connection is in this process's heap.
const (
	envHeapSpokeAddr = "IROHSPOKE_HEAP_SPOKE_ADDR" // host:port of the hub
	envHeapSpokeID   = "IROHSPOKE_HEAP_SPOKE_ID"   // hub EndpointId
	envHeapSpokeN    = "IROHSPOKE_HEAP_SPOKE_N"    // how many spokes
	// envHeapProfile names a file for a heap profile taken while the
	// spokes idle (set runtime.MemProfileRate with GODEBUG-free
	// -test.memprofilerate=1 for exact numbers).
	envHeapProfile = "IROHSPOKE_HEAP_PROFILE"
)

const heapSpokes = 200

// BenchmarkHubIdleSpokeHeap measures what an idle connected spoke costs a
// Go hub: heap (HeapInuse) and goroutine stacks (StackInuse) per spoke,
// after every spoke connected, did one echo round trip and went idle.
//
// "echo" answers each spoke's hello to that spoke only; "fanout" is the
// default router, which also forwards every hello to all other spokes.
func BenchmarkHubIdleSpokeHeap(b *testing.B) {
	b.Run("echo", func(b *testing.B) { benchIdleSpokes(b, echoOnly) })
	b.Run("fanout", func(b *testing.B) { benchIdleSpokes(b, hub.EchoFanout) })
}

var echoOnly = hub.RouterFunc(func(_ *hub.Hub, from *hub.Spoke, e wire.Envelope, _ []byte) {
	from.Reply(e.Echo())
})

func benchIdleSpokes(b *testing.B, router hub.Router) {
	var heap, stack, gor float64
	runs := 0
	for b.Loop() {
		h, s, g := idleSpokeCost(b, router, heapSpokes)
		heap, stack, gor = heap+h, stack+s, gor+g
		runs++
	}
	n := float64(runs)
	b.ReportMetric(heap/n, "heap-B/spoke")
	b.ReportMetric(stack/n, "stack-B/spoke")
	b.ReportMetric((heap+stack)/n, "total-B/spoke")
	b.ReportMetric(gor/n, "goroutines/spoke")
}

type memSnapshot struct {
	heap, stack uint64
	goroutines  int
}

func snapshotMem() memSnapshot {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSnapshot{m.HeapInuse, m.StackInuse, runtime.NumGoroutine()}
}

// idleSpokeCost returns heap bytes, stack bytes and goroutines per spoke.
func idleSpokeCost(b *testing.B, router hub.Router, n int) (heap, stack, goroutines float64) {
	b.StopTimer()
	ep := newEndpoint(b, hub.ALPN)
	connected := make(chan struct{}, n)
	h := hub.New(hub.Options{Router: router, OnConnect: func(*hub.Spoke) {
		select {
		case connected <- struct{}{}:
		default:
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		h.Serve(ctx, ep)
	}()
	defer func() {
		cancel()
		h.Close()
		<-served
		ep.Close()
	}()

	before := snapshotMem()
	child, stdin, ready := startHeapSpokes(b, ep, n)
	select {
	case err := <-ready:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		b.Fatal("spoke process not ready within 60 s")
	}
	waitSpokesFor(b, connected, n, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // let the last ACKs settle
	after := snapshotMem()
	if name := os.Getenv(envHeapProfile); name != "" {
		writeHeapProfile(b, name)
	}
	b.StartTimer()

	stdin.Close() // the child exits when its stdin closes
	child.Wait()

	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return per(after.heap, before.heap), per(after.stack, before.stack),
		float64(after.goroutines-before.goroutines) / float64(n)
}

func writeHeapProfile(b *testing.B, name string) {
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// waitSpokesFor waits for n spokes to reach the hub.
func waitSpokesFor(b *testing.B, connected <-chan struct{}, n int, d time.Duration) {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for i := range n {
		select {
		case <-connected:
		case <-timeout.C:
			b.Fatalf("%d spokes registered, want %d", i, n)
		}
	}
}

// startHeapSpokes runs n spokes in a child process; ready reports once all
// of them had their echo (or the child failed).
func startHeapSpokes(b *testing.B, ep *quic.Endpoint, n int) (*exec.Cmd, io.WriteCloser, <-chan error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHeapSpokeHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envHeapSpokeAddr+"="+ep.LocalAddr().String(),
		envHeapSpokeID+"="+ep.ID().String(),
		fmt.Sprintf("%s=%d", envHeapSpokeN, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("spoke process ended before it was ready: %v", sc.Err())
	}()
	return cmd, stdin, ready
}

// TestHeapSpokeHelper is the child process of BenchmarkHubIdleSpokeHeap;
// run directly it does nothing.
func TestHeapSpokeHelper(t *testing.T) {
	addr := os.Getenv(envHeapSpokeAddr)
	if addr == "" {
		t.Skip("only runs as the spoke process of BenchmarkHubIdleSpokeHeap")
	}
	var n int
	if _, err := fmt.Sscan(os.Getenv(envHeapSpokeN), &n); err != nil {
		t.Fatal(err)
	}
	id, err := identity.ParseEndpointID(os.Getenv(envHeapSpokeID))
	if err != nil {
		t.Fatal(err)
	}
	hubAddr := identity.EndpointAddr{ID: id, Addrs: []netip.AddrPort{netip.MustParseAddrPort(addr)}}
	// A few endpoints, each carrying many connections, keep the child light.
	eps := make([]*quic.Endpoint, 8)
	for i := range eps {
		eps[i] = newEndpoint(t)
	}
	targets := make([]*spoke.Target, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tg, err := echoOnce(hubAddr, eps[i%len(eps)], i)
			targets[i] = tg
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin) // idle until the parent is done
	for _, tg := range targets {
		tg.Close()
	}
}

// echoOnce connects a spoke and waits for the echo of one envelope.
func echoOnce(addr identity.EndpointAddr, ep *quic.Endpoint, i int) (*spoke.Target, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := spoke.DialVia(ctx, spoke.NewQUICDialer(ep), addr)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprint("s", i)
	echoed := make(chan struct{}, 1)
	remove := tg.AddListener("hello.echo", func(e wire.Envelope) {
		if e.ID == id {
			echoed <- struct{}{}
		}
	})
	defer remove()
	if err := tg.Dispatch(ctx, wire.Envelope{Type: "hello", ID: id}); err != nil {
		return tg, err
	}
	select {
	case <-echoed:
		return tg, nil
	case <-ctx.Done():
		return tg, fmt.Errorf("spoke %d: no echo: %w", i, ctx.Err())
	}
}
