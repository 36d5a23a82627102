package relay

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay/internal/websocket"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

func TestExchangeHTTP(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	a := dialClient(t, srv.URL, newKey(t), nil)
	b := dialClient(t, srv.URL, newKey(t), nil)
	if st := a.Status(); st.State != StateConnected || st.Version != relayproto.V2 {
		t.Fatalf("status %+v", st)
	}
	exchange(t, a, b, "hello b")
	exchange(t, b, a, "hello a")
	exchange(t, a, a, "to myself")
	// The server counts a frame after queueing it, which may be after the
	// receiver got it.
	waitFor(t, func() bool { return srv.Metrics().SendPacketsSent.Load() >= 3 })
	if got := srv.Metrics().SendPacketsSent.Load(); got != 3 {
		t.Fatalf("send_packets_sent = %d", got)
	}
	if got := srv.Metrics().Clients.Load(); got != 2 {
		t.Fatalf("clients = %d", got)
	}
}

func TestBatchSplit(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	a := dialClient(t, srv.URL, newKey(t), nil)
	b := dialClient(t, srv.URL, newKey(t), nil)
	payload := bytes.Repeat([]byte("0123456789"), 25) // 250 bytes
	if err := a.SendBatch(context.Background(), b.ID(), relayproto.ECT1, 100, payload); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{payload[:100], payload[100:200], payload[200:]} {
		ev := recvKind(t, b, EventDatagram)
		if !bytes.Equal(ev.Payload, want) || ev.ECN != relayproto.ECT1 || ev.Src != a.ID() {
			t.Fatalf("segment %d: %+v", i, ev)
		}
	}
}

func TestUnknownDestinationAndEmptyDropped(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	a := dialClient(t, srv.URL, newKey(t), nil)
	nobody := newKey(t).Public()
	if err := a.Send(context.Background(), nobody, 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), a.ID(), 0, nil); !errors.Is(err, relayproto.ErrEmptyDatagram) {
		t.Fatalf("empty send: %v", err)
	}
	// An empty datagram frame sent anyway is dropped by the relay.
	rc := rawLogin(t, srv.Addr, newKey(t))
	id := a.ID()
	b := append(append([]byte{byte(relayproto.TypeClientToRelayDatagram)}, id[:]...), 0) // Append refuses this
	if err := rc.ws.WriteMessage(websocket.OpBinary, b); err != nil {
		t.Fatal(err)
	}
	exchange(t, a, a, "still fine")
	waitFor(t, func() bool { return srv.Metrics().SendPacketsDropped.Load() == 2 })
	noEvent(t, a, EventDatagram, 100*time.Millisecond)
}

func TestEndpointGone(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	a := dialClient(t, srv.URL, newKey(t), nil)
	b := dialClient(t, srv.URL, newKey(t), nil)
	c := dialClient(t, srv.URL, newKey(t), nil)
	exchange(t, a, b, "hi")
	a.Close()
	ev := recvKind(t, b, EventEndpointGone)
	if ev.Src != a.ID() {
		t.Fatalf("gone %s", ev.Src.Short())
	}
	// c never heard from a: no EndpointGone for it.
	noEvent(t, c, EventEndpointGone, 200*time.Millisecond)
}

func TestDuplicateID(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	key := newKey(t)
	a1 := dialClient(t, srv.URL, key, nil)
	b := dialClient(t, srv.URL, newKey(t), nil)
	exchange(t, b, a1, "to a1")
	a2 := dialClient(t, srv.URL, key, nil)
	if ev := recvKind(t, a1, EventStatus); ev.StatusCode != relayproto.StatusSameEndpointIDConnected {
		t.Fatalf("a1 status %v", ev.StatusCode)
	}
	// The newest connection gets the traffic; the old one stays open, silent.
	exchange(t, b, a2, "to a2")
	noEvent(t, a1, EventDatagram, 200*time.Millisecond)
	if a1.Status().State != StateConnected {
		t.Fatal("old connection was closed")
	}
	// The old one may still send.
	exchange(t, a1, b, "from a1")
	// When the newest leaves, the older one is promoted and told so; b
	// gets no EndpointGone because a connection for the id remains.
	a2.Close()
	if ev := recvKind(t, a1, EventStatus); ev.StatusCode != relayproto.StatusHealthy {
		t.Fatalf("a1 status %v", ev.StatusCode)
	}
	exchange(t, b, a1, "to a1 again")
	noEvent(t, b, EventEndpointGone, 100*time.Millisecond)
}

func TestHTTPEndpoints(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	get := func(path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/ping", nil); r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("/ping: %v", r.Status)
	}
	r := get("/generate_204", map[string]string{"X-Iroh-Challenge": "ts_127.0.0.1"})
	if r.StatusCode != 204 || r.Header.Get("X-Iroh-Response") != "response ts_127.0.0.1" {
		t.Fatalf("/generate_204: %v %q", r.Status, r.Header.Get("X-Iroh-Response"))
	}
	if r := get("/generate_204", map[string]string{"X-Iroh-Challenge": "bad challenge!"}); r.StatusCode != 204 || r.Header.Get("X-Iroh-Response") != "" {
		t.Fatal("invalid challenge echoed")
	}
	if r := get("/nope", nil); r.StatusCode != 404 {
		t.Fatalf("/nope: %v", r.Status)
	}
	if r := get("/relay", nil); r.StatusCode != 400 {
		t.Fatalf("plain GET /relay: %v", r.Status)
	}
}

func TestTokens(t *testing.T) {
	srv := startServer(t, ServerConfig{Tokens: []string{"hunter2", "other"}}, "")
	ok := dialClient(t, srv.URL, newKey(t), func(c *ClientConfig) { c.Token = "hunter2" })
	exchange(t, ok, ok, "allowed")
	for _, tok := range []string{"", "wrong"} {
		_, err := Dial(testCtx(t), ClientConfig{URL: srv.URL, SecretKey: newKey(t), Token: tok, Proxy: NoProxy, Logger: discard})
		var de *DeniedError
		if !errors.As(err, &de) || de.Reason != relayproto.DenyReasonNotAuthorized {
			t.Fatalf("token %q: err %v", tok, err)
		}
	}
	srv.Log.waitLog(t, "bad or missing token")
	if got := srv.Metrics().AuthFailures.Load(); got != 2 {
		t.Fatalf("auth_failures = %d", got)
	}
	// ?token= works too (browser style).
	q := dialClient(t, srv.URL+"/?token=other", newKey(t), nil)
	exchange(t, q, ok, "query token")
}

func TestRateLimit(t *testing.T) {
	const rate = 20000
	srv := startServer(t, ServerConfig{RateLimit: rate, RateBurst: 2000}, "")
	a := dialClient(t, srv.URL, newKey(t), nil)
	b := dialClient(t, srv.URL, newKey(t), nil)
	start := time.Now()
	payload := make([]byte, 1000)
	for range 10 { // ~10.4 KB, burst 2 KB → about 0.4 s at 20 KB/s
		if err := a.Send(context.Background(), b.ID(), 0, payload); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		recvKind(t, b, EventDatagram)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("10 KB went through in %v despite a 20 KB/s limit", el)
	}
	if ev := recvKind(t, a, EventStatus); ev.StatusCode != relayproto.StatusRateLimited {
		t.Fatalf("status %v", ev.StatusCode)
	}
	if srv.Metrics().ConnsRxRatelimited.Load() != 1 {
		t.Fatal("conns_rx_ratelimited_total")
	}
}

func TestGracefulShutdownSendsRestarting(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	a := dialClient(t, srv.URL, newKey(t), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ev := recvKind(t, a, EventRestarting)
	if ev.Restarting.ReconnectIn() != time.Second {
		t.Fatalf("restarting %+v", ev.Restarting)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr, time.Second); err == nil {
		t.Fatal("listener still open")
	}
}

func TestRestartReconnects(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	var mu sync.Mutex
	var states []State
	lost := make(chan struct{}, 1)
	mod := func(c *ClientConfig) {
		c.OnStatus = func(s Status) {
			mu.Lock()
			states = append(states, s.State)
			mu.Unlock()
			if s.State == StateReconnecting {
				select {
				case lost <- struct{}{}:
				default:
				}
			}
		}
	}
	a := dialClient(t, srv.URL, newKey(t), mod)
	b := dialClient(t, srv.URL, newKey(t), nil)
	exchange(t, a, b, "before")
	srv.Close()
	select { // the outage is noticed before the server is back
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("client never noticed the relay go away")
	}
	srv2 := startServer(t, ServerConfig{}, srv.Addr)
	for _, c := range []*Client{a, b} {
		if err := c.WaitConnected(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until both are registered with the new server.
	waitFor(t, func() bool { return srv2.Metrics().Clients.Load() == 2 })
	exchange(t, a, b, "after")
	exchange(t, b, a, "after too")
	mu.Lock()
	defer mu.Unlock()
	if !containsSeq(states, StateConnecting, StateConnected, StateReconnecting, StateConnected) {
		t.Fatalf("states %v", states)
	}
}

func containsSeq(got []State, want ...State) bool {
	i := 0
	for _, s := range got {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestCloseDuringLogin(t *testing.T) {
	srv := startServer(t, ServerConfig{}, "")
	// Upgrade but never answer the challenge.
	if _, err := rawUpgrade(t, srv.Addr, relayproto.SubprotocolOffer); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Metrics().WebsocketAccepts.Load() == 1 })
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for a client stuck in the login")
	}
}
