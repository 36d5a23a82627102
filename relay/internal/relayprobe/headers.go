package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/relay"
)

// probeHeaders dials a fake relay that answers the upgrade with a 101
// status line followed by header lines that never end.
func probeHeaders() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	var sent atomic.Int64
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go endlessHeaders(nc, &sent)
		}
	}()
	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		return err
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	failed := make(chan error, 1)
	c, err := relay.NewClient(relay.ClientConfig{
		URL: "http://" + l.Addr().String(), SecretKey: key, Proxy: relay.NoProxy,
		Logger: slog.New(slog.DiscardHandler), BackoffMin: time.Hour,
		OnStatus: func(s relay.Status) {
			if s.State == relay.StateReconnecting {
				select {
				case failed <- s.Err:
				default:
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer c.Close()
	select {
	case err = <-failed:
	case <-time.After(15 * time.Second):
		err = fmt.Errorf("no failure within 15 s")
	}
	el := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	fmt.Printf("headers: first attempt failed after %v: %v\n", el.Round(time.Millisecond), err)
	fmt.Printf("headers: relay sent %.1f MB of headers; client allocated %.1f MB; peak RSS %.1f MB\n",
		float64(sent.Load())/1e6, float64(after.TotalAlloc-before.TotalAlloc)/1e6, procRSSMB(os.Getpid(), "VmHWM"))
	return nil
}

func endlessHeaders(nc net.Conn, sent *atomic.Int64) {
	defer nc.Close()
	if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
		return
	}
	w := bufio.NewWriterSize(nc, 64<<10)
	_, _ = w.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	pad := strings.Repeat("a", 1000)
	for i := 0; ; i++ {
		n, err := fmt.Fprintf(w, "X-Pad-%d: %s\r\n", i, pad)
		sent.Add(int64(n))
		if err != nil {
			return
		}
	}
}
