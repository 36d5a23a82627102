package relay

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// healthy checks that the relay still serves well-behaved clients.
func healthy(t *testing.T, srv *testServer) {
	t.Helper()
	a := dialClient(t, srv.URL, newKey(t), nil)
	b := dialClient(t, srv.URL, newKey(t), nil)
	exchange(t, a, b, "still working")
}

func TestGarbageBeforeUpgrade(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	nc, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = nc.Write([]byte("\x00\xff\x16garbage\r\n\r\n"))
	_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("garbage answered %v %v", resp, err)
	}
	healthy(t, srv)
}

func TestWrongSubprotocol(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	_, err := rawUpgrade(t, srv.Addr, "iroh-relay-v9, foo")
	var se *websocket.UnexpectedStatusError
	if !errors.As(err, &se) || se.Code != http.StatusBadRequest {
		t.Fatalf("err %v", err)
	}
	srv.Log.waitLog(t, "no supported subprotocol")
	// A v1-only client gets v1 and Health instead of Status.
	ws, err := rawUpgrade(t, srv.Addr, relayproto.SubprotocolV1)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close(websocket.CloseNormal, "")
	healthy(t, srv)
}

func TestBadSignature(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	ws, err := rawUpgrade(t, srv.Addr, relayproto.SubprotocolOffer)
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawClient{ws: ws, key: newKey(t)}
	ch := rc.readHandshake(t).(*relayproto.ServerChallenge)
	auth, _ := relayproto.SignChallenge(rc.key.Sign, rc.key.Public(), ch.Challenge)
	auth.Signature[0] ^= 1
	if err := writeFrame(ws, auth); err != nil {
		t.Fatal(err)
	}
	deny, ok := rc.readHandshake(t).(*relayproto.ServerDeniesAuth)
	if !ok || deny.Reason != relayproto.DenyReasonSignatureInvalid {
		t.Fatalf("got %+v", deny)
	}
	rc.waitClosed(t)
	srv.Log.waitLog(t, "bad login signature")
	if srv.Metrics().AuthFailures.Load() != 1 {
		t.Fatal("auth_failures not counted")
	}
	healthy(t, srv)
}

func TestBadFramesCloseOffender(t *testing.T) {
	big := make([]byte, relayproto.MaxFrameSize+1)
	tooLargeRelayFrame := make([]byte, 1+relayproto.MaxPacketSize+1)
	tooLargeRelayFrame[0] = byte(relayproto.TypeClientToRelayDatagram)
	cases := []struct {
		name string
		msg  []byte
		log  string
	}{
		{"unknown type", []byte{0x0e, 1, 2, 3}, "malformed frame"},
		{"server-only type", []byte{byte(relayproto.TypeEndpointGone)}, "malformed frame"},
		{"short ping", []byte{byte(relayproto.TypePing), 1, 2}, "malformed frame"},
		{"websocket oversize", big, "oversize message"},
		{"relay oversize", tooLargeRelayFrame, "malformed frame"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, ServerConfig{}, "")
			other := dialClient(t, srv.URL, newKey(t), nil)
			rc := rawLogin(t, srv.Addr, newKey(t))
			// The relay may cut us off mid-write (oversize), so ignore errors.
			_ = rc.ws.WriteMessage(websocket.OpBinary, tc.msg)
			rc.waitClosed(t)
			srv.Log.waitLog(t, tc.log)
			exchange(t, other, other, "unaffected")
		})
	}
}

func TestNonReaderCutOff(t *testing.T) {
	srv := startServer(t, ServerConfig{WriteTimeout: 200 * time.Millisecond}, "")
	a := dialClient(t, srv.URL, newKey(t), func(c *ClientConfig) { c.SendQueueLen = 4096 })
	b := dialClient(t, srv.URL, newKey(t), nil)
	stuckKey := newKey(t)
	stuck := rawLogin(t, srv.Addr, stuckKey)
	if tc, ok := stuck.ws.NetConn().(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	// Flood the non-reader until the relay gives up on it.
	payload := make([]byte, 60000)
	deadline := time.Now().Add(10 * time.Second)
	for srv.Metrics().WriteTimeouts.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("non-reading client never cut off")
		}
		_ = a.Send(context.Background(), stuckKey.Public(), 0, payload)
		exchange(t, b, a, "meanwhile") // others are not blocked
		time.Sleep(time.Millisecond)
	}
	srv.Log.waitLog(t, "write failed or timed out")
	exchange(t, a, b, "after")
}

func TestServerPingTimeout(t *testing.T) {
	srv := startServer(t, ServerConfig{PingInterval: 50 * time.Millisecond}, "")
	rc := rawLogin(t, srv.Addr, newKey(t))
	_ = rc.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var parser relayproto.Parser
	// Answer the first ping (the relay measures an RTT), ignore the next.
	answered := false
	for {
		_, msg, err := rc.ws.ReadMessage()
		if err != nil {
			if !answered {
				t.Fatal(err)
			}
			break
		}
		f, err := parser.Parse(msg, relayproto.V2, relayproto.RelayToClient)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := f.(*relayproto.Ping); ok && !answered {
			answered = true
			if err := writeFrame(rc.ws, &relayproto.Pong{Data: p.Data}); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv.Log.waitLog(t, "ping timeout")
}

// fakeRelay logs clients in and answers only their first ping.
func fakeRelay(t *testing.T) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Upgrade(w, r, relayproto.SubprotocolV2)
		if err != nil {
			return
		}
		defer ws.Close(websocket.CloseNormal, "")
		_ = writeFrame(ws, &relayproto.ServerConfirmsAuth{}) // no challenge: trust anyone
		var parser relayproto.Parser
		pinged := false
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			f, err := parser.Parse(msg, relayproto.V2, relayproto.ClientToRelay)
			if p, ok := f.(*relayproto.Ping); err == nil && ok && !pinged {
				pinged = true
				_ = writeFrame(ws, &relayproto.Pong{Data: p.Data})
			}
		}
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

func TestClientDetectsDeadLink(t *testing.T) {
	url := fakeRelay(t)
	lost := make(chan error, 16)
	c := dialClient(t, url, newKey(t), func(c *ClientConfig) {
		c.PingInterval = 50 * time.Millisecond
		c.OnStatus = func(s Status) {
			if s.State == StateReconnecting {
				select {
				case lost <- s.Err:
				default:
				}
			}
		}
	})
	if rtt, ok := c.RTT(); !ok && rtt == 0 {
		waitFor(t, func() bool { _, ok := c.RTT(); return ok })
	}
	select {
	case err := <-lost:
		if !errors.Is(err, errDeadLink) {
			t.Fatalf("lost connection with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dead link not detected")
	}
}
