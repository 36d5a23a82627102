package relay

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay/relayproto"
)

// closedByPeer reads (draining any answer) until the relay closes the
// connection; false if it is still open after 5 s.
func closedByPeer(nc net.Conn) bool {
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := nc.Read(buf); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

// dialFrom opens a TCP connection to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// upgradeFrom upgrades a connection from src and stops before the login;
// it reports whether the relay answered 101.
func upgradeFrom(t *testing.T, src, addr string) (net.Conn, bool) {
	t.Helper()
	nc := dialFrom(t, src, addr)
	fmt.Fprintf(nc, "GET /relay HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		relayproto.SubprotocolOffer)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	return nc, err == nil && strings.Contains(line, " 101 ")
}

func TestIdleKeepAliveClosed(t *testing.T) {
	srv := startServer(t, ServerConfig{IdleTimeout: 100 * time.Millisecond}, "")
	nc := dialFrom(t, "127.0.0.1", srv.Addr)
	fmt.Fprintf(nc, "GET /ping HTTP/1.1\r\nHost: relay\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /ping: %v %v", resp, err)
	}
	if !closedByPeer(nc) {
		t.Fatal("idle keep-alive connection still open")
	}
}

func TestSlowRequestClosed(t *testing.T) {
	srv := startServer(t, ServerConfig{RequestTimeout: 100 * time.Millisecond}, "")
	body := dialFrom(t, "127.0.0.1", srv.Addr)
	fmt.Fprintf(body, "POST /ping HTTP/1.1\r\nHost: relay\r\nContent-Length: 100000\r\n\r\nten bytes.")
	head := dialFrom(t, "127.0.0.1", srv.Addr)
	fmt.Fprintf(head, "GET /ping HTTP/1.1\r\nHost: rel")
	if !closedByPeer(body) {
		t.Fatal("request with a body that never arrives still open")
	}
	if !closedByPeer(head) {
		t.Fatal("request with a head that never ends still open")
	}
}

func TestLoginDeadline(t *testing.T) {
	srv := startServer(t, ServerConfig{EstablishTimeout: 100 * time.Millisecond}, "")
	nc, ok := upgradeFrom(t, "127.0.0.1", srv.Addr)
	if !ok {
		t.Fatal("upgrade refused")
	}
	if !closedByPeer(nc) {
		t.Fatal("socket that never logged in still open")
	}
	waitFor(t, func() bool { return srv.Metrics().LoginTimeouts.Load() == 1 })
	healthy(t, srv)
}

// TestPerIPCap: an attacker holding its whole per-IP allowance of
// upgraded sockets gets the next one refused, while a client from
// another address logs in and relays as usual.
func TestPerIPCap(t *testing.T) {
	const perIP = 5
	srv := startServer(t, ServerConfig{MaxConnsPerIP: perIP}, "")
	for i := range perIP {
		if _, ok := upgradeFrom(t, "127.0.0.2", srv.Addr); !ok {
			t.Fatalf("upgrade %d within the cap refused", i)
		}
	}
	if _, ok := upgradeFrom(t, "127.0.0.2", srv.Addr); ok {
		t.Fatal("upgrade over the per-IP cap accepted")
	}
	if got := srv.Metrics().ConnsRefused.Load(); got != 1 {
		t.Fatalf("conns_refused = %d, want 1", got)
	}
	healthy(t, srv) // from 127.0.0.1
	srv.Log.waitLog(t, "connection cap reached")
}

// TestGlobalCap: over MaxConns everyone is refused; a closed connection
// frees its slot.
func TestGlobalCap(t *testing.T) {
	srv := startServer(t, ServerConfig{MaxConns: 3}, "")
	var held []net.Conn
	for i, src := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		nc, ok := upgradeFrom(t, src, srv.Addr)
		if !ok {
			t.Fatalf("upgrade %d within the cap refused", i)
		}
		held = append(held, nc)
	}
	if _, ok := upgradeFrom(t, "127.0.0.5", srv.Addr); ok {
		t.Fatal("upgrade over the global cap accepted")
	}
	held[0].Close()
	waitFor(t, func() bool { return srv.Metrics().Conns.Load() == 2 })
	if _, ok := upgradeFrom(t, "127.0.0.5", srv.Addr); !ok {
		t.Fatal("freed slot not reused")
	}
}

// failingListener fails its first Accept with a temporary error.
type failingListener struct {
	net.Listener
	failed bool
}

type tempErr struct{}

func (tempErr) Error() string   { return "too many open files (test)" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

func (l *failingListener) Accept() (net.Conn, error) {
	if !l.failed {
		l.failed = true
		return nil, tempErr{}
	}
	return l.Listener.Accept()
}

func TestAcceptErrorLoggedAtWarn(t *testing.T) {
	lb := &logBuf{}
	s := NewServer(ServerConfig{Logger: newLogger(lb)})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(&failingListener{Listener: l})
	t.Cleanup(func() { s.Close() })
	lb.waitLog(t, `level=WARN msg="relay: accept failed" err="too many open files (test)"`)
	healthy(t, &testServer{Server: s, URL: "http://" + l.Addr().String(), Addr: l.Addr().String(), Log: lb})
}

func TestDefaultMaxConnsFollowsFDLimit(t *testing.T) {
	for _, tc := range []struct{ fds, want int }{{0, DefaultMaxConns}, {1024, 768}, {1 << 20, DefaultMaxConns}, {1, 1}} {
		if got := defaultMaxConns(tc.fds); got != tc.want {
			t.Errorf("defaultMaxConns(%d) = %d, want %d", tc.fds, got, tc.want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:443", "192.0.2.7/32"},
		{"[::ffff:192.0.2.7]:443", "192.0.2.7/32"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:443", "fe80::/64"},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := sourceOf(a).String(); got != tc.want {
			t.Errorf("sourceOf(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}
