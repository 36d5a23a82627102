package relay

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay/internal/websocket"
)

// endlessHeaderRelay answers every upgrade with 101 and header lines that
// never end.
func endlessHeaderRelay(t *testing.T) string {
	t.Helper()
	return "http://" + serveEach(t, func(nc net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
			return
		}
		w := bufio.NewWriter(nc)
		_, _ = w.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
		pad := strings.Repeat("a", 1000)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "X-Pad-%d: %s\r\n", i, pad); err != nil {
				return
			}
		}
	})
}

// TestClientRefusesEndlessUpgradeHeaders: the attempt fails with the
// header-limit error (not the dial timeout), having allocated little.
func TestClientRefusesEndlessUpgradeHeaders(t *testing.T) {
	url := endlessHeaderRelay(t)
	failed := make(chan error, 1)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	c, err := NewClient(ClientConfig{
		URL: url, SecretKey: newKey(t), Proxy: NoProxy, Logger: discard, BackoffMin: time.Hour,
		OnStatus: func(s Status) {
			if s.State == StateReconnecting {
				select {
				case failed <- s.Err:
				default:
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got error
	select {
	case got = <-failed:
	case <-time.After(30 * time.Second):
		t.Fatal("no failed attempt")
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if !errors.Is(got, websocket.ErrResponseHeaderTooLarge) {
		t.Fatalf("attempt failed with %v, want %v", got, websocket.ErrResponseHeaderTooLarge)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("failed attempt: %v; allocated %d KB", got, alloc>>10)
	if alloc > 8<<20 { // generous: a 16 KiB head limit, plus the test's own noise
		t.Fatalf("the client allocated %d MB for one refused upgrade", alloc>>20)
	}
}
