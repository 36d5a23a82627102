package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// probeLogins opens n WebSocket upgrades from 127.0.0.2 that never log
// in, then times legitimate logins from 127.0.0.1.
func probeLogins(n int) error {
	r, err := startRelay()
	if err != nil {
		return err
	}
	defer r.stop()
	// Only this process needs the room (the relay keeps its own limit);
	// where the hard limit cannot be raised, n must stay below it.
	var lim syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	if want := uint64(n + 64); lim.Cur < want {
		lim.Cur, lim.Max = want, max(lim.Max, want)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raising RLIMIT_NOFILE to %d: %w", want, err)
		}
	}
	rss0, fds0 := r.rssMB(), r.fds()
	var upgraded, refused atomic.Int64
	var mu sync.Mutex
	var held []net.Conn
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 32 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				nc, ok := attackUpgrade(r.Addr)
				if !ok {
					refused.Add(1)
					continue
				}
				upgraded.Add(1)
				mu.Lock()
				held = append(held, nc)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, nc := range held {
			nc.Close()
		}
	}()
	fmt.Printf("logins: %d attacker upgrades from 127.0.0.2: %d held, %d refused\n", n, upgraded.Load(), refused.Load())
	fmt.Printf("logins: relay RSS %.0f → %.0f MB, fds %d → %d\n", rss0, r.rssMB(), fds0, r.fds())
	var times []time.Duration
	for range 5 {
		d, err := legitLogin(r.Addr)
		if err != nil {
			fmt.Printf("logins: legitimate login failed: %v\n", err)
			continue
		}
		times = append(times, d)
	}
	if len(times) > 0 {
		slices.Sort(times)
		fmt.Printf("logins: legitimate login from 127.0.0.1: median %v (of %d)\n", times[len(times)/2].Round(100*time.Microsecond), len(times))
	}
	return nil
}

// attackUpgrade upgrades one connection and stops there.
func attackUpgrade(addr string) (net.Conn, bool) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, false
	}
	fmt.Fprintf(nc, "GET /relay HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		relayproto.SubprotocolOffer)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil || !strings.Contains(line, " 101 ") {
		nc.Close()
		return nil, false
	}
	return nc, true
}

func legitLogin(addr string) (time.Duration, error) {
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	c, err := relay.Dial(ctx, relay.ClientConfig{
		URL: "http://" + addr, SecretKey: key, Proxy: relay.NoProxy, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return 0, err
	}
	d := time.Since(start)
	c.Close()
	return d, nil
}
