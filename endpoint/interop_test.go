package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/wire"
)

const alkpubsub = "alkpubsub/1"

// TestRealHubThroughRelay: our client reaches a real iroh hub only through
// our relay (no direct address) and 1,000 envelopes of mixed sizes come
// back intact.
func TestRealHubThroughRelay(t *testing.T) {
	interop.RequireNetns(t)
	ctx := testCtx(t, 60*time.Second)
	_, hub, c := dialRealHubViaRelay(t, ctx)
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	sent := make([]wire.Envelope, n)
	for i := range sent {
		size := []int{0, 10, 200, 1200, 5000, 20000, 64}[i%7] + i
		sent[i] = wire.Envelope{
			Type:    "test.bulk",
			ID:      fmt.Sprintf("e%d", i),
			Payload: []byte(`"` + strings.Repeat(string(rune('a'+i%26)), size) + `"`),
		}
	}
	writeErr := make(chan error, 1)
	go func() {
		var buf []byte
		for _, e := range sent {
			var err error
			if buf, err = wire.AppendFrame(buf[:0], e); err != nil {
				writeErr <- err
				return
			}
			if _, err := s.Write(buf); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	s.SetReadDeadline(time.Now().Add(50 * time.Second))
	rd := wire.NewReader(s, 0)
	for i := range sent {
		got, _, err := rd.ReadEnvelope()
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		want := sent[i].Echo()
		if got.Type != want.Type || got.ID != want.ID || string(got.Payload) != string(want.Payload) {
			t.Fatalf("echo %d: got %s/%s (%d bytes), want %s/%s (%d bytes)",
				i, got.Type, got.ID, len(got.Payload), want.Type, want.ID, len(want.Payload))
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	t.Logf("1000 envelopes through the relay: rtt %v, lost %d of %d packets", st.RTT, st.PacketsLost, st.PacketsSent)
	c.Close(0, "done")
	if err := hub.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestRealSpokeToGoServerThroughRelay: a real iroh spoke that knows only
// our id and relay URL reaches a Go server and gets its envelopes echoed.
func TestRealSpokeToGoServerThroughRelay(t *testing.T) {
	interop.RequireNetns(t)
	r := startRelay(t)
	// Multipath off: this test is about the relay path, which iroh would
	// otherwise leave for a direct one on loopback.
	srv := bind(t, Options{RelayURL: r.URL, ALPNs: []string{alkpubsub}, DisableMultipath: true})
	ctx := testCtx(t, 60*time.Second)
	if err := srv.WaitRelay(ctx); err != nil {
		t.Fatal(err)
	}
	go serveHubEcho(srv)
	res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
		ID: srv.ID().String(), RelayURL: r.URL, Count: 20, Size: 3000,
	})
	if err != nil {
		t.Fatalf("spoke: %v\n%s", err, res.Stderr)
	}
	if !res.OK || res.Echoes != 20 || res.RemoteID != srv.ID().String() {
		t.Fatalf("spoke result %+v", res)
	}
	if m := srv.Metrics(); m.ConnsRelay.Load() == 0 || m.SendIPv4.Load() != 0 {
		t.Fatalf("server: conns_relay %d, udp sends %d", m.ConnsRelay.Load(), m.SendIPv4.Load())
	}
}

// serveHubEcho is a minimal hub: every envelope comes back with its type
// suffixed ".echo".
func serveHubEcho(e *Endpoint) {
	for {
		c, err := e.Accept(context.Background())
		if err != nil {
			return
		}
		go func() {
			s, err := c.AcceptStream(context.Background())
			if err != nil {
				return
			}
			rd, wr := wire.NewReader(s, 0), wire.NewWriter(s, 0)
			for {
				env, _, err := rd.ReadEnvelope()
				if errors.Is(err, io.EOF) || (err != nil && !wire.IsRecoverable(err)) {
					s.Close()
					return
				}
				if err != nil {
					wr.WriteEnvelope(wire.ErrorEnvelope("", err.Error()))
					continue
				}
				if wr.WriteEnvelope(env.Echo()) != nil {
					return
				}
			}
		}()
	}
}

// dialRealHubViaRelay starts our relay and a real iroh hub homed there, and
// dials the hub knowing only its id and the relay URL.
func dialRealHubViaRelay(t *testing.T, ctx context.Context) (*testRelay, *interop.Hub, *quic.Conn) {
	t.Helper()
	r := startRelay(t)
	hub := interop.StartHub(t, interop.HubOptions{RelayURL: r.URL})
	if hub.RelayURL == "" {
		t.Fatal("hub did not come online at our relay")
	}
	hubID, err := identity.ParseEndpointID(hub.EndpointID)
	if err != nil {
		t.Fatal(err)
	}
	// Multipath off: these tests measure the relay path itself.
	c, err := bind(t, Options{DisableMultipath: true}).Dial(ctx, identity.EndpointAddr{ID: hubID, Relays: []string{hub.RelayURL}}, alkpubsub)
	if err != nil {
		t.Fatal(err)
	}
	if !c.RemoteAddr().IsRelay() {
		t.Fatalf("path %v", c.RemoteAddr())
	}
	return r, hub, c
}
