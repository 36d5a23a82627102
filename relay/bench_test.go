package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const benchDatagram = 1200

// benchWindow bounds datagrams in flight so neither path drops.
const benchWindow = 256

func benchPair(b *testing.B) (*Client, *Client) {
	srv := startServer(b, ServerConfig{Logger: discard}, "")
	a := dialClient(b, srv.URL, newKey(b), func(c *ClientConfig) { c.SendQueueLen = 2 * benchWindow })
	c := dialClient(b, srv.URL, newKey(b), func(c *ClientConfig) { c.RecvQueueLen = 2 * benchWindow })
	exchange(b, a, c, "warm-up")
	return a, c
}

func reportRate(b *testing.B, n int, el time.Duration) {
	b.ReportMetric(float64(n)/el.Seconds(), "datagrams/s")
	b.ReportMetric(float64(n*benchDatagram)/el.Seconds()/1e6, "MB/s")
}

// BenchmarkThroughputRelay: 1200-byte datagrams A → relay → B.
func BenchmarkThroughputRelay(b *testing.B) {
	a, c := benchPair(b)
	payload := make([]byte, benchDatagram)
	ctx := context.Background()
	got := make(chan int, 1)
	var recvd countCell
	go func() {
		n := 0
		for n < b.N {
			if ev, err := c.Recv(ctx); err != nil {
				break
			} else if ev.Kind == EventDatagram {
				n++
				recvd.set(n)
			}
		}
		got <- n
	}()
	b.SetBytes(benchDatagram)
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; {
		for sent-recvd.get() > benchWindow {
			runtime.Gosched()
		}
		if err := a.Send(ctx, c.ID(), 0, payload); errors.Is(err, ErrQueueFull) {
			runtime.Gosched()
			continue
		} else if err != nil {
			b.Fatal(err)
		}
		sent++
	}
	select {
	case n := <-got:
		reportRate(b, n, time.Since(start))
	case <-time.After(30 * time.Second):
		b.Fatalf("only part of %d datagrams arrived (dropped at receiver: %d)", b.N, c.DroppedReceives())
	}
}

// BenchmarkThroughputUDP: the same datagrams over plain loopback UDP.
func BenchmarkThroughputUDP(b *testing.B) {
	rx, tx := udpPair(b)
	payload := make([]byte, benchDatagram)
	got := make(chan int, 1)
	var recvd countCell
	go func() {
		buf := make([]byte, 2048)
		n := 0
		for n < b.N {
			if _, err := rx.Read(buf); err != nil {
				break
			}
			n++
			recvd.set(n)
		}
		got <- n
	}()
	b.SetBytes(benchDatagram)
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent++ {
		for sent-recvd.get() > benchWindow {
			runtime.Gosched()
		}
		if _, err := tx.Write(payload); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case n := <-got:
		reportRate(b, n, time.Since(start))
	case <-time.After(10 * time.Second):
		b.Fatalf("UDP lost datagrams on loopback (got %d of %d)", recvd.get(), b.N)
	}
}

// BenchmarkRTTRelay: one datagram A → B → A at a time; ns/op is the RTT.
func BenchmarkRTTRelay(b *testing.B) {
	a, c := benchPair(b)
	payload := make([]byte, benchDatagram)
	ctx := context.Background()
	go func() { // echo
		for {
			ev, err := c.Recv(ctx)
			if err != nil {
				return
			}
			if ev.Kind == EventDatagram {
				_ = c.Send(ctx, ev.Src, 0, ev.Payload)
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		if err := a.Send(ctx, c.ID(), 0, payload); err != nil {
			b.Fatal(err)
		}
		for {
			ev, err := a.Recv(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if ev.Kind == EventDatagram {
				break
			}
		}
	}
}

// BenchmarkRTTUDP: the same ping-pong over plain loopback UDP.
func BenchmarkRTTUDP(b *testing.B) {
	rx, tx := udpPair(b)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := rx.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = rx.WriteToUDP(buf[:n], from)
		}
	}()
	payload := make([]byte, benchDatagram)
	buf := make([]byte, 2048)
	b.ResetTimer()
	for range b.N {
		if _, err := tx.Write(payload); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// countCell publishes a receiver's progress to the sender.
type countCell struct{ v atomic.Int64 }

func (c *countCell) set(n int) { c.v.Store(int64(n)) }
func (c *countCell) get() int  { return int(c.v.Load()) }

func udpPair(b *testing.B) (rx, tx *net.UDPConn) {
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	_ = rx.SetReadBuffer(4 << 20)
	tx, err = net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rx.Close(); tx.Close() })
	return rx, tx
}

// envHeapServer makes the test binary a bare relay for the heap benchmark,
// so that the clients' memory is not counted.
const envHeapServer = "IROHSPOKE_RELAY_HEAP_SERVER"

// runHeapServer serves the relay plus /heap (GC, then HeapAlloc) and
// prints its URL; it returns when stdin closes.
func runHeapServer() int {
	s := NewServer(ServerConfig{Logger: discard})
	mux := http.NewServeMux()
	mux.Handle("/", s)
	mux.HandleFunc("/heap", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "%d %d", ms.HeapAlloc, runtime.NumGoroutine())
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 1
	}
	go http.Serve(l, mux)
	fmt.Printf("http://%s\n", l.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

func heapOf(b *testing.B, url string) (heap, goroutines int) {
	resp, err := http.Get(url + "/heap")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	f := strings.Fields(string(body))
	heap, _ = strconv.Atoi(f[0])
	goroutines, _ = strconv.Atoi(f[1])
	return heap, goroutines
}

// BenchmarkServerHeapPerIdleClient connects 200 idle clients to a relay in
// a child process and reports the server's heap growth per client.
func BenchmarkServerHeapPerIdleClient(b *testing.B) {
	const n = 200
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envHeapServer+"=1")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		url := strings.TrimSpace(line)
		addr := strings.TrimPrefix(url, "http://")
		before, g0 := heapOf(b, url)
		clients := make([]*rawClient, n)
		for i := range clients {
			clients[i] = rawLogin(b, addr, newKey(b))
		}
		time.Sleep(100 * time.Millisecond)
		after, g1 := heapOf(b, url)
		b.ReportMetric(float64(after-before)/n, "heap-bytes/client")
		b.ReportMetric(float64(g1-g0)/n, "goroutines/client")
		for _, c := range clients {
			c.ws.NetConn().Close()
		}
		stdin.Close()
		_ = cmd.Wait()
	}
}
