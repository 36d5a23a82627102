package relay

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/notify"
	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// logBuf collects log output for assertions.
type logBuf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written notify.Signal
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.written.Notify()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log contains s, checking again at each write.
func (l *logBuf) waitLog(t *testing.T, s string) {
	t.Helper()
	if !l.written.Until(3*time.Second, func() bool { return strings.Contains(l.String(), s) }) {
		t.Fatalf("log never contained %q; log:\n%s", s, l.String())
	}
}

var discard = slog.New(slog.DiscardHandler)

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newLogger(w *logBuf) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testServer struct {
	*Server
	URL  string
	Addr string
	Log  *logBuf
}

// startServer runs a relay on 127.0.0.1:0 (or addr).
func startServer(t testing.TB, cfg ServerConfig, addr string) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lb := &logBuf{}
	if cfg.Logger == nil {
		cfg.Logger = newLogger(lb)
	}
	s := NewServer(cfg)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	scheme := "http"
	if cfg.TLSConfig != nil {
		scheme = "https"
	}
	return &testServer{Server: s, URL: scheme + "://" + l.Addr().String(), Addr: l.Addr().String(), Log: lb}
}

func newKey(t testing.TB) identity.SecretKey {
	t.Helper()
	k, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialClient connects a client with short backoff and no proxy.
func dialClient(t testing.TB, url string, key identity.SecretKey, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{
		URL: url, SecretKey: key, Proxy: NoProxy,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recvKind returns the next event of the given kind, skipping others.
func recvKind(t testing.TB, c *Client, kind EventKind) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		ev, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("waiting for event %d: %v", kind, err)
		}
		if ev.Kind == kind {
			return ev
		}
	}
}

// noEvent checks that nothing of kind arrives within d.
func noEvent(t testing.TB, c *Client, kind EventKind, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		ev, err := c.Recv(ctx)
		if err != nil {
			return
		}
		if ev.Kind == kind {
			t.Fatalf("unexpected event %+v", ev)
		}
	}
}

// exchange checks that a datagram from a reaches b.
func exchange(t testing.TB, a, b *Client, payload string) {
	t.Helper()
	if err := a.Send(context.Background(), b.ID(), relayproto.ECT0, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	ev := recvKind(t, b, EventDatagram)
	if ev.Src != a.ID() || string(ev.Payload) != payload || ev.ECN != relayproto.ECT0 {
		t.Fatalf("got %+v, want %q from %s", ev, payload, a.ID().Short())
	}
}

// rawClient is a hand-driven relay connection for misbehaviour tests.
type rawClient struct {
	ws  *websocket.Conn
	key identity.SecretKey
}

// rawUpgrade opens a WebSocket to the relay with the given offer.
func rawUpgrade(t testing.TB, addr, offer string) (*websocket.Conn, error) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	ws, _, err := websocket.ClientHandshake(nc, websocket.ClientRequest{Host: addr, Path: "/relay", Subprotocols: offer})
	return ws, err
}

// rawLogin connects and logs in with key (offering v2 and v1).
func rawLogin(t testing.TB, addr string, key identity.SecretKey) *rawClient {
	t.Helper()
	return rawLoginOffer(t, addr, key, relayproto.SubprotocolOffer)
}

func rawLoginOffer(t testing.TB, addr string, key identity.SecretKey, offer string) *rawClient {
	t.Helper()
	ws, err := rawUpgrade(t, addr, offer)
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawClient{ws: ws, key: key}
	ch := rc.readHandshake(t).(*relayproto.ServerChallenge)
	auth, err := relayproto.SignChallenge(key.Sign, key.Public(), ch.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(ws, auth); err != nil {
		t.Fatal(err)
	}
	if _, ok := rc.readHandshake(t).(*relayproto.ServerConfirmsAuth); !ok {
		t.Fatal("no confirm")
	}
	return rc
}

func (rc *rawClient) readHandshake(t testing.TB) relayproto.Frame {
	t.Helper()
	_ = rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := rc.ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	f, err := relayproto.ParseHandshakeFrame(msg, relayproto.RelayToClient)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitClosed reads until the relay closes the connection.
func (rc *rawClient) waitClosed(t testing.TB) {
	t.Helper()
	_ = rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := rc.ws.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("relay did not close the connection")
			}
			return
		}
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// serveEach runs handle, in its own goroutine, on every connection to a
// fresh loopback listener, closing the connection after; it returns the
// listener's address.
func serveEach(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				handle(nc)
			}()
		}
	}()
	return l.Addr().String()
}
