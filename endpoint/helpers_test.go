package endpoint

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

const testALPN = "irohspoke-test/1"

// testRelay is our relay server on a loopback port that can be stopped and
// started again on the same port.
type testRelay struct {
	t    testing.TB
	addr string
	URL  string
	srv  *relay.Server
}

func startRelay(t testing.TB) *testRelay {
	t.Helper()
	r := &testRelay{t: t, addr: "127.0.0.1:0"}
	r.start()
	r.URL = "http://" + r.addr
	t.Cleanup(r.stop)
	return r
}

func (r *testRelay) start() {
	r.t.Helper()
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("relay listen: %v", err)
	}
	r.addr = l.Addr().String()
	r.srv = relay.NewServer(relay.ServerConfig{Logger: testLogger()})
	go r.srv.Serve(l)
}

func (r *testRelay) stop() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("ENDPOINT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// bind binds an endpoint on loopback, closed when the test ends.
func bind(t testing.TB, opts Options) *Endpoint {
	t.Helper()
	if opts.BindAddr == "" {
		opts.BindAddr = "127.0.0.1:0"
	}
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	if opts.RelayBackoffMax == 0 {
		opts.RelayBackoffMax = 300 * time.Millisecond
	}
	e, err := Bind(context.Background(), opts)
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// serveEcho accepts connections on e and echoes every bidirectional
// stream until the endpoint closes.
func serveEcho(e *Endpoint) {
	go func() {
		for {
			c, err := e.Accept(context.Background())
			if err != nil {
				return
			}
			go func() {
				for {
					s, err := c.AcceptStream(context.Background())
					if err != nil {
						return
					}
					go func() {
						io.Copy(s, s)
						s.Close()
					}()
				}
			}()
		}
	}()
}

// relayEchoServer binds an echo server homed on the relay at url (opts
// adds to that) and returns once it is reachable through the relay.
func relayEchoServer(t testing.TB, ctx context.Context, url string, opts Options) *Endpoint {
	t.Helper()
	opts.RelayURL, opts.ALPNs = url, []string{testALPN}
	srv := bind(t, opts)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	serveEcho(srv)
	return srv
}

// dialRelayed dials id on testALPN knowing only its relay.
func dialRelayed(t testing.TB, ctx context.Context, e *Endpoint, id identity.EndpointID, url string) *quic.Conn {
	t.Helper()
	c, err := e.Dial(ctx, identity.EndpointAddr{ID: id, Relays: []string{url}}, testALPN)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// echoOnce writes msg on s and reads it back.
func echoOnce(t testing.TB, s *quic.Stream, msg string) {
	t.Helper()
	s.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := s.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(s, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != msg {
		t.Fatalf("echo %q, want %q", got, msg)
	}
}

// waitGoroutines waits for the goroutine count to fall to base (plus
// slack for the runtime's own), failing after a while.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, want <= %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isClosedErr(err error) bool {
	return errors.Is(err, quic.ErrClosed) || errors.Is(err, net.ErrClosed)
}
