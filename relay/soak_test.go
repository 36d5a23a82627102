package relay

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/internal/soakstat"
)

// relaySoak is one version of TestSoakRelay.
type relaySoak struct {
	clients  int
	slowEach int           // every slowEach-th pair reads slowly
	tick     time.Duration // each client sends one datagram per tick
	warmup   time.Duration
	duration time.Duration
	sample   time.Duration
}

var (
	shortRelaySoak = relaySoak{clients: 200, slowEach: 10, tick: 100 * time.Millisecond,
		warmup: time.Second, duration: 8 * time.Second, sample: 8 * time.Second}
	// 1000 clients at 10 datagrams/s: 10,000 forwarded a second.
	longRelaySoak = relaySoak{clients: 1000, slowEach: 10, tick: 100 * time.Millisecond,
		warmup: 30 * time.Second, duration: 10 * time.Minute, sample: time.Minute}
)

// measureSoak collects the figures of this process (clients and relay
// both).
func measureSoak(t *testing.T) soakstat.Figures {
	t.Helper()
	f, err := soakstat.Measure()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// raiseFDLimit makes room for n descriptors, failing if it cannot.
func raiseFDLimit(t *testing.T, n uint64) {
	t.Helper()
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if l.Cur >= n {
		return
	}
	l.Cur, l.Max = n, max(l.Max, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatalf("RLIMIT_NOFILE: need %d: %v", n, err)
	}
}

// soakPeer is one client with its traffic counters.
type soakPeer struct {
	c        *Client
	partner  *soakPeer
	slow     bool
	sent     atomic.Int64  // datagrams queued to the partner
	full     atomic.Int64  // sends refused by a full queue
	received atomic.Int64  // datagrams from the partner
	arrived  chan struct{} // poked at each datagram, shared by all peers
}

// TestSoakRelay: pairs of relay clients exchange steady traffic through one
// relay, some reading slowly; the others must get everything, and the
// process's heap, RSS, goroutines and descriptors must stay flat.
func TestSoakRelay(t *testing.T) {
	p := shortRelaySoak
	if os.Getenv("IROHSPOKE_SOAK") == "1" {
		p = longRelaySoak
	}
	raiseFDLimit(t, uint64(3*p.clients+1024))
	baseline := runtime.NumGoroutine()
	srv := startServer(t, ServerConfig{Logger: discard, MaxConnsPerIP: -1}, "")
	peers := connectSoakPeers(t, srv.URL, p)
	ctx, cancel := context.WithCancel(context.Background())
	sendCtx, stopSend := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, sp := range peers {
		wg.Go(func() { sp.receive(ctx) })
	}
	wg.Go(func() { sendSoakTraffic(sendCtx, peers, p.tick) })

	time.Sleep(p.warmup)
	start := measureSoak(t)
	t.Logf("soak: figures phase=start clients=%d %s", len(peers), start)
	for left := p.duration; left > 0; left -= p.sample {
		time.Sleep(min(left, p.sample))
		if left > p.sample {
			t.Logf("soak: figures phase=sample %s", measureSoak(t))
		}
	}
	end := measureSoak(t)
	t.Logf("soak: figures phase=end clients=%d %s", len(peers), end)
	stopSend()
	settleSoak(peers)
	cancel()
	wg.Wait()

	checkSoakDelivery(t, srv, peers)
	if err := soakGrowth.CheckFlat(start, end); err != nil {
		t.Error(err)
	}
	for _, sp := range peers {
		sp.c.Close()
	}
	srv.Close()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= baseline+10 })
}

func connectSoakPeers(t *testing.T, url string, p relaySoak) []*soakPeer {
	t.Helper()
	peers := make([]*soakPeer, p.clients)
	arrived := make(chan struct{}, 1)
	began := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range peers {
		sp := &soakPeer{slow: (i/2)%p.slowEach == 0, arrived: arrived}
		peers[i] = sp
		key := newKey(t)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sp.c = dialClient(t, url, key, func(c *ClientConfig) {
				if sp.slow {
					c.RecvQueueLen = 16
				}
			})
		})
	}
	wg.Wait()
	for i := 0; i+1 < len(peers); i += 2 {
		peers[i].partner, peers[i+1].partner = peers[i+1], peers[i]
	}
	t.Logf("soak: connected clients=%d connect_ms=%d", len(peers), time.Since(began).Milliseconds())
	return peers
}

// sendSoakTraffic has every client send one datagram to its partner per tick.
func sendSoakTraffic(ctx context.Context, peers []*soakPeer, tick time.Duration) {
	payload := make([]byte, 1000)
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		for _, sp := range peers {
			switch err := sp.c.Send(ctx, sp.partner.c.ID(), 0, payload); {
			case err == nil:
				sp.sent.Add(1)
			case errors.Is(err, ErrQueueFull):
				sp.full.Add(1)
			}
		}
	}
}

// receive counts datagrams; a slow peer takes 150 ms over each while one
// arrives every 100 ms, so its small queue overflows.
func (sp *soakPeer) receive(ctx context.Context) {
	for {
		ev, err := sp.c.Recv(ctx)
		if err != nil {
			return
		}
		if ev.Kind != EventDatagram || ev.Src != sp.partner.c.ID() {
			continue
		}
		sp.received.Add(1)
		select {
		case sp.arrived <- struct{}{}:
		default:
		}
		if sp.slow {
			time.Sleep(150 * time.Millisecond)
		}
	}
}

// settleSoak waits, once sending stopped, until the normal peers have
// everything or nothing arrived for a second (the relay may drop a few).
func settleSoak(peers []*soakPeer) {
	quiet := time.NewTimer(time.Second)
	defer quiet.Stop()
	for {
		var missing int64
		for _, sp := range peers {
			if !sp.slow {
				missing += sp.partner.sent.Load() - sp.received.Load()
			}
		}
		if missing == 0 {
			return
		}
		select {
		case <-peers[0].arrived:
			quiet.Reset(time.Second)
		case <-quiet.C:
			return
		}
	}
}

func checkSoakDelivery(t *testing.T, srv *testServer, peers []*soakPeer) {
	t.Helper()
	var sent, got, full, recvDropped, slowSent, slowGot int64
	for _, sp := range peers {
		if sp.slow {
			slowSent += sp.partner.sent.Load()
			slowGot += sp.received.Load()
			continue
		}
		sent += sp.partner.sent.Load()
		got += sp.received.Load()
		full += sp.partner.full.Load()
		recvDropped += sp.c.DroppedReceives()
	}
	m := srv.Metrics()
	t.Logf("soak: delivery normal sent=%d delivered=%d (%.3f%%) send_queue_full=%d recv_queue_full=%d; slow sent=%d delivered=%d; relay forwarded=%d dropped=%d",
		sent, got, 100*float64(got)/float64(max(sent, 1)), full, recvDropped, slowSent, slowGot, m.SendPacketsSent.Load(), m.SendPacketsDropped.Load())
	if sent == 0 || got < sent*999/1000 {
		t.Errorf("normal clients got %d of %d datagrams, want at least 99.9%%", got, sent)
	}
	if slowGot >= slowSent {
		t.Errorf("slow clients got all %d datagrams: they were not slow", slowSent)
	}
}

// soakGrowth bounds the growth from start to end: memory by half again
// plus a slack for GC and pool noise, goroutines and descriptors by a small
// slack (nothing should leak per datagram or per second).
var soakGrowth = soakstat.Growth{MemFactor: 1.5, HeapSlack: 16 << 20, RSSSlack: 64 << 20, GoroutineSlack: 20, FDSlack: 8}
