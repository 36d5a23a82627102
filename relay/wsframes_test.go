package relay

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// drain reads (and so answers pings, reports pongs) until the conn ends.
func (rc *rawClient) drain() {
	_ = rc.ws.SetReadDeadline(time.Time{})
	go func() {
		for {
			if _, _, err := rc.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

// Text frames and WebSocket pings count against the per-client limit like
// relay frames: sending 10× the burst of either gets the client limited.
func TestRateLimitCoversTextAndPings(t *testing.T) {
	for _, kind := range []string{"text", "ping"} {
		t.Run(kind, func(t *testing.T) {
			srv := startServer(t, ServerConfig{RateLimit: 100000, RateBurst: 2000}, "")
			rc := rawLogin(t, srv.Addr, newKey(t))
			rc.drain()
			for range 200 {
				var err error
				if kind == "text" {
					err = rc.ws.WriteMessage(websocket.OpText, make([]byte, 100))
				} else {
					err = rc.ws.WriteControl(websocket.OpPing, make([]byte, 100))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, func() bool { return srv.Metrics().ConnsRxRatelimited.Load() == 1 })
			if srv.Metrics().BytesRxRatelimited.Load() == 0 {
				t.Fatal("bytes_rx_ratelimited_total not counted")
			}
			healthy(t, srv)
		})
	}
}

// TestWebSocketPingAfterIdle: a ping that arrives long after the relay's
// last write is answered (by the writer, with a fresh deadline) instead
// of failing on the expired one and costing the client its connection.
func TestWebSocketPingAfterIdle(t *testing.T) {
	srv := startServer(t, ServerConfig{WriteTimeout: 50 * time.Millisecond}, "")
	rc := rawLogin(t, srv.Addr, newKey(t))
	pong := make(chan string, 1)
	rc.ws.OnPong = func(p []byte) { pong <- string(p) }
	rc.drain()
	time.Sleep(200 * time.Millisecond) // the confirm's write deadline is long gone
	if err := rc.ws.WriteControl(websocket.OpPing, []byte("late")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pong:
		if p != "late" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	if n := srv.Metrics().WriteTimeouts.Load(); n != 0 {
		t.Fatalf("write_timeouts = %d", n)
	}
	self := rc.key.Public()
	dg, _ := (&relayproto.ClientToRelayDatagram{Dst: self, Payload: []byte("x")}).Append(nil)
	if err := rc.ws.WriteMessage(websocket.OpBinary, dg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Metrics().SendPacketsSent.Load() == 1 })
}

// TestClientAnswersWebSocketPing: the client's pong to a relay's
// WebSocket ping goes out through its writer.
func TestClientAnswersWebSocketPing(t *testing.T) {
	pong := make(chan string, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Upgrade(w, r, relayproto.SubprotocolV2)
		if err != nil {
			return
		}
		defer ws.Close(websocket.CloseNormal, "")
		ws.OnPong = func(p []byte) { pong <- string(p) }
		_ = writeFrame(ws, &relayproto.ServerConfirmsAuth{})
		_ = ws.WriteControl(websocket.OpPing, []byte("are you there"))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	dialClient(t, "http://"+l.Addr().String(), newKey(t), nil)
	select {
	case p := <-pong:
		if p != "are you there" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}
