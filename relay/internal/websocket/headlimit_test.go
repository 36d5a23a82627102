package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the bytes the client takes off the socket.
type countingConn struct {
	net.Conn
	read atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// hostileServer answers one upgrade request with head(key), then streams
// filler (forever, or until the client goes).
func hostileServer(t *testing.T, head func(key string) string, filler string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			return
		}
		w := bufio.NewWriter(nc)
		_, _ = w.WriteString(head(req.Header.Get("Sec-WebSocket-Key")))
		for i := 0; filler != ""; i++ {
			if _, err := fmt.Fprintf(w, filler, i); err != nil {
				return
			}
		}
		_ = w.Flush()
		_, _ = io.Copy(io.Discard, nc) // close only after the client did, so it reads everything
	}()
	return l.Addr().String()
}

func dialCounting(t *testing.T, addr string) *countingConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &countingConn{Conn: nc}
}

func TestClientHandshakeHeaderLimit(t *testing.T) {
	pad := strings.Repeat("a", 1000)
	cases := []struct {
		name, head, filler string
	}{
		{"endless header lines", "HTTP/1.1 101 Switching Protocols\r\n", "X-Pad-%d: " + pad + "\r\n"},
		{"one endless line", "HTTP/1.1 101 Switching Protocols\r\nX-Pad: ", pad + "%.0d"},
		{"endless status line", "HTTP/1.1 101 ", pad + "%.0d"},
		{"refusal with endless body", "HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000000000\r\n\r\n", pad + "%.0d"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := hostileServer(t, func(string) string { return tc.head }, tc.filler)
			nc := dialCounting(t, addr)
			_, _, err := ClientHandshake(nc, ClientRequest{Host: "x", Path: "/relay", Subprotocols: "p"})
			var se *UnexpectedStatusError
			switch {
			case errors.As(err, &se):
				if se.Code != http.StatusForbidden {
					t.Fatalf("status %v", se)
				}
			case !errors.Is(err, ErrResponseHeaderTooLarge) || !errors.Is(err, ErrBadUpgradeResponse):
				t.Fatalf("err %v, want %v", err, ErrResponseHeaderTooLarge)
			}
			if n := nc.read.Load(); n > MaxResponseHeaderBytes {
				t.Fatalf("client read %d bytes, limit %d", n, MaxResponseHeaderBytes)
			}
		})
	}
}

// A large but bounded head still works, and frames sent right behind it
// are read past the (lifted) limit.
func TestClientHandshakeLimitLiftedAfterHead(t *testing.T) {
	extra := "X-Big: " + strings.Repeat("b", MaxResponseHeaderBytes/2) + "\r\n"
	msg := strings.Repeat("m", 3*MaxResponseHeaderBytes)
	frame := string(AppendHeader(nil, Header{Fin: true, Op: OpBinary, Length: uint64(len(msg))})) + msg
	addr := hostileServer(t, func(key string) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + AcceptKey(key) + "\r\nSec-WebSocket-Protocol: p\r\n" + extra + "\r\n" + frame
	}, "")
	nc := dialCounting(t, addr)
	c, _, err := ClientHandshake(nc, ClientRequest{Host: "x", Path: "/relay", Subprotocols: "p"})
	if err != nil {
		t.Fatal(err)
	}
	c.MaxMessageSize = len(msg)
	if _, got, err := c.ReadMessage(); err != nil || string(got) != msg {
		t.Fatalf("message after the head: %d bytes, %v", len(got), err)
	}
}
