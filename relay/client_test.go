package relay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay/relayproto"
)

func TestSendQueueFull(t *testing.T) {
	// Nothing listens on port 1: the client never connects, so the queue
	// only fills.
	c, err := NewClient(ClientConfig{URL: "http://127.0.0.1:1", SecretKey: newKey(t), Proxy: NoProxy,
		SendQueueLen: 2, BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	dst := newKey(t).Public()
	for range 2 {
		if err := c.Send(ctx, dst, 0, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(ctx, dst, 0, []byte("x")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third send: %v", err)
	}
	// Unreachable relays keep the client reconnecting, never failed.
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := c.WaitConnected(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitConnected: %v", err)
	}
	if st := c.Status(); st.State != StateReconnecting || st.Err == nil {
		t.Fatalf("status %+v", st)
	}
	c.Close()
	if err := c.Send(ctx, dst, 0, []byte("x")); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if st := c.Status(); st.State != StateFailed {
		t.Fatalf("status after close %+v", st)
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{cfg: ClientConfig{BackoffMin: 10 * time.Millisecond, BackoffMax: 16 * time.Second}}
	for n, want := range map[int]time.Duration{0: 10 * time.Millisecond, 1: 20 * time.Millisecond, 5: 320 * time.Millisecond, 40: 16 * time.Second} {
		for range 20 {
			if d := c.backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestV1DuplicateGetsHealth(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	key := newKey(t)
	old := rawLoginOffer(t, srv.Addr, key, relayproto.SubprotocolV1)
	_ = dialClient(t, srv.URL, key, nil) // v2, same id
	_ = old.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var parser relayproto.Parser
	for {
		_, msg, err := old.ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.Parse(msg, relayproto.V1, relayproto.RelayToClient)
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := f.(*relayproto.Health); ok {
			if h.Problem != relayproto.StatusSameEndpointIDConnected.HealthText() {
				t.Fatalf("health %q", h.Problem)
			}
			return
		}
	}
}
