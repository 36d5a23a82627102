package lookup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// dialFrom connects to addr from the loopback address src (all of
// 127.0.0.0/8 is local on Linux).
func dialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reports whether the server closes c within d (reading
// nothing else).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// stillOpen reports whether c is open (a short read times out).
func stillOpen(c net.Conn) bool { return !closedWithin(c, 20*time.Millisecond) }

// healthz sends one keep-alive GET /healthz on c and reads the answer.
func healthz(t testing.TB, c net.Conn) {
	t.Helper()
	if !tryHealthz(c) {
		t.Fatal("healthz not answered")
	}
}

// tryHealthz reports whether a keep-alive GET /healthz on c is answered.
func tryHealthz(c net.Conn) bool {
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetReadDeadline(time.Time{})
	return resp.StatusCode == 200
}

// slowPut starts a PUT whose body never finishes.
func slowPut(c net.Conn, key string) {
	fmt.Fprintf(c, "PUT /pkarr/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab", key)
}

func startPkarr(t *testing.T, s *Server) string { return serveTCP(t, s.ServePkarr) }

// serveTCP runs serve on a loopback listener until the test ends, when
// serve must return nil once the listener closes.
func serveTCP(t *testing.T, serve func(net.Listener) error) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(l) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("serving: %v", err)
		}
	})
	return l.Addr().String()
}

// TestHTTPConnCaps: one client gets at most its share of connections;
// when the table is full a newcomer evicts the longest idle connection,
// and with none idle it is refused.
func TestHTTPConnCaps(t *testing.T) {
	s := NewServer(ServerOptions{Limits: ServerLimits{MaxHTTPConns: 4, MaxHTTPConnsPerClient: 2}})
	addr := startPkarr(t, s)
	// Each request ends (the server marks the connection idle) before the
	// next, so the idle order is a1, a2, b1, b2.
	served := func(c net.Conn) {
		t.Helper()
		healthz(t, c)
		waitFor(t, func() bool { return s.httpConns.busy() == 0 })
	}
	a1, a2 := dialFrom(t, "127.0.2.1", addr), dialFrom(t, "127.0.2.1", addr)
	served(a1)
	served(a2)
	if a3 := dialFrom(t, "127.0.2.1", addr); !closedWithin(a3, 5*time.Second) {
		t.Fatal("third connection of one client admitted")
	}
	b1, b2 := dialFrom(t, "127.0.2.2", addr), dialFrom(t, "127.0.2.2", addr)
	served(b1)
	served(b2)
	c1 := dialFrom(t, "127.0.2.3", addr) // a1 is the longest idle
	served(c1)
	if !closedWithin(a1, 5*time.Second) {
		t.Fatal("longest idle connection not evicted")
	}
	if !stillOpen(a2) || !stillOpen(b1) || !stillOpen(b2) {
		t.Fatal("a younger connection was closed")
	}
	// Every slot busy with an unfinished PUT: nothing to evict.
	key := newKey(t).Public().ZBase32()
	for _, c := range []net.Conn{a2, b1, b2, c1} {
		slowPut(c, key)
	}
	waitFor(t, func() bool { return !s.httpConns.hasIdle() })
	if d := dialFrom(t, "127.0.2.4", addr); !closedWithin(d, 5*time.Second) {
		t.Fatal("admitted with every connection busy")
	}
}

// busy counts connections in the middle of a request.
func (t *connTable) busy() (n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.conns {
		if e.idleSince.IsZero() {
			n++
		}
	}
	return n
}

func (t *connTable) hasIdle() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.longestIdle() != nil
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
