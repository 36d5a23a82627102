package interop_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHubEchoByAddrAndTicket(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	v4, ok := hub.AddrV4()
	if !ok {
		t.Fatalf("hub advertises no IPv4 address: %v", hub.Addrs)
	}
	if hub.RelayURL != "" {
		t.Errorf("relay disabled, but hub reports relay %q", hub.RelayURL)
	}
	if !strings.HasPrefix(hub.Ticket, "endpoint") {
		t.Errorf("ticket %q lacks the endpoint prefix", hub.Ticket)
	}
	v6, ok := hub.AddrV6()
	if !ok {
		t.Fatalf("hub advertises no IPv6 address: %v", hub.Addrs)
	}
	cases := map[string]interop.SpokeOptions{
		"addr":   {ID: hub.EndpointID, Addrs: []netip.AddrPort{v4}, Count: 3, Size: 64},
		"addr6":  {ID: hub.EndpointID, Addrs: []netip.AddrPort{v6}, Count: 1},
		"ticket": {Ticket: hub.Ticket, Count: 3, Size: 64},
		"large":  {Ticket: hub.Ticket, Count: 2, Size: 300_000},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := interop.RunSpoke(testCtx(t), opts)
			if err != nil {
				t.Fatalf("spoke: %v\n%s", err, res.Stderr)
			}
			if res.Echoes != opts.Count || res.RemoteID != hub.EndpointID {
				t.Fatalf("echoes %d (want %d), remote %s (want %s)", res.Echoes, opts.Count, res.RemoteID, hub.EndpointID)
			}
			if res.ConnectMs == nil || res.RTTMs == nil {
				t.Fatalf("missing timings: %+v", res)
			}
			t.Logf("connect %.2f ms, rtt median %.2f ms", *res.ConnectMs, res.RTTMs.Median)
		})
	}
	if err := hub.Stop(); err != nil {
		t.Fatalf("hub stop: %v", err)
	}
}

func TestHubWrongIDIsRejected(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	v4, _ := hub.AddrV4()
	other := interop.StartHub(t, interop.HubOptions{}) // only for a valid foreign id
	res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{
		ID: other.EndpointID, Addrs: []netip.AddrPort{v4}, Count: 1, Timeout: 5 * time.Second,
	})
	if !errors.Is(err, interop.ErrSpokeFailed) || res.OK {
		t.Fatalf("dialing %s with another id: err %v, result %+v", v4, err, res)
	}
}

func TestHubFanOutVerbatim(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	listener := interop.StartSpokeListener(t, interop.SpokeOptions{Ticket: hub.Ticket, Name: "listener"})
	res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{
		Ticket: hub.Ticket, Name: "sender", Count: 3, Size: 100, PrintSent: true,
	})
	if err != nil {
		t.Fatalf("sender: %v\n%s", err, res.Stderr)
	}
	if len(res.Sent) != 3 {
		t.Fatalf("sender reported %d sent frames, want 3", len(res.Sent))
	}
	frames, err := listener.Frames(testCtx(t), 3)
	if err != nil {
		t.Fatalf("listener: %v", err)
	}
	for i, f := range frames {
		if !bytes.Equal(f.Body, res.Sent[i]) {
			t.Errorf("frame %d differs:\n got %s\nwant %s", i, f.Body, res.Sent[i])
		}
		var env struct{ Type, ID string }
		if err := json.Unmarshal(f.Msg, &env); err != nil || env.Type != "test.msg" {
			t.Errorf("frame %d: envelope %s (%v)", i, f.Msg, err)
		}
	}
	if err := listener.Stop(); err != nil {
		t.Errorf("listener stop: %v", err)
	}
	if err := hub.Stop(); err != nil {
		t.Fatalf("hub stop: %v", err)
	}
}

func TestHubBroadcastToSender(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	// The first spoke waits for the second one's frames.
	first := make(chan error, 1)
	go func() {
		res, err := interop.RunSpoke(context.Background(), interop.SpokeOptions{
			Ticket: hub.Ticket, Name: "a", Count: 1, ExpectBroadcasts: 2, Timeout: 15 * time.Second,
		})
		if err == nil && res.Broadcasts < 2 {
			err = errors.New("too few broadcasts")
		}
		first <- err
	}()
	// b's frames only reach spokes whose stream the hub has accepted.
	waitHubLog(t, hub, `"msg":"stream opened"`, 1)
	if res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{Ticket: hub.Ticket, Name: "b", Count: 2}); err != nil {
		t.Fatalf("spoke b: %v\n%s", err, res.Stderr)
	}
	select {
	case err := <-first:
		if err != nil {
			t.Fatalf("spoke a: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("spoke a did not finish")
	}
}

// waitHubLog waits until the hub log contains needle at least n times.
func waitHubLog(t *testing.T, hub *interop.Hub, needle string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(hub.Stderr.String(), needle) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("hub log never showed %d× %s:\n%s", n, needle, hub.Stderr.String())
}

func TestHubMalformedFramesKeepStream(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	raw := [][]byte{
		[]byte("not json"),
		[]byte(`{"id":"x1","payload":1}`),
		[]byte(`[1,2]`),
		{0xff, 0xfe},
	}
	res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{Ticket: hub.Ticket, SendRaw: raw, Count: 2})
	if err != nil {
		t.Fatalf("spoke: %v\n%s", err, res.Stderr)
	}
	if len(res.Errors) != len(raw) || res.Echoes != 2 {
		t.Fatalf("got %d errors and %d echoes, want %d and 2: %+v", len(res.Errors), res.Echoes, len(raw), res)
	}
	if string(res.Errors[0].ID) != "null" || string(res.Errors[1].ID) != `"x1"` {
		t.Errorf("error ids %s, %s; want null, \"x1\"", res.Errors[0].ID, res.Errors[1].ID)
	}
	for i, e := range res.Errors {
		if e.Error == "" {
			t.Errorf("error %d has no message", i)
		}
	}
}

func TestHubOversizeFrameClosesConnection(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{Ticket: hub.Ticket, Oversize: true})
	if err != nil {
		t.Fatalf("spoke: %v\n%s", err, res.Stderr)
	}
	if !strings.Contains(res.CloseReason, "frame too large") {
		t.Fatalf("close reason %q, want the hub's frame-too-large close", res.CloseReason)
	}
	// The hub keeps serving others.
	if res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{Ticket: hub.Ticket, Count: 1}); err != nil {
		t.Fatalf("spoke after oversize: %v\n%s", err, res.Stderr)
	}
}

func TestHubSIGTERMClosesSpokes(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{})
	listener := interop.StartSpokeListener(t, interop.SpokeOptions{Ticket: hub.Ticket})
	start := time.Now()
	if err := hub.Stop(); err != nil {
		t.Fatalf("hub stop: %v", err)
	}
	t.Logf("hub exited 0 after SIGTERM in %v", time.Since(start))
	ev, err := listener.Next(testCtx(t))
	if err != nil {
		t.Fatalf("listener: %v", err)
	}
	if ev.Event != "error" || !strings.Contains(ev.Error, "hub shutting down") {
		t.Fatalf("listener event %+v, want a close with reason \"hub shutting down\"", ev)
	}
	if !strings.Contains(hub.Stderr.String(), "shutting down") {
		t.Errorf("hub log lacks the shutdown line:\n%s", hub.Stderr.String())
	}
}

func TestHubFixedSecretAndBind(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	sk, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	seed := sk.Bytes()
	port := freeUDPPort(t)
	hub := interop.StartHub(t, interop.HubOptions{
		SecretHex: hex.EncodeToString(seed[:]),
		Bind:      netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String(),
	})
	if hub.EndpointID != sk.Public().String() {
		t.Fatalf("hub id %s, want %s from the given secret", hub.EndpointID, sk.Public())
	}
	if v4, _ := hub.AddrV4(); v4.Port() != port {
		t.Fatalf("hub bound %v, want port %d", hub.Addrs, port)
	}
	if err := hub.Stop(); err != nil {
		t.Fatalf("hub stop: %v", err)
	}
}

func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// An unreachable relay must not keep the hub from serving direct dials.
func TestHubUnreachableRelayStillStarts(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{RelayURL: "http://127.0.0.1:9/", OnlineTimeout: 300 * time.Millisecond})
	v4, ok := hub.AddrV4()
	if !ok {
		t.Fatalf("no IPv4 address: %v", hub.Addrs)
	}
	if res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{ID: hub.EndpointID, Addrs: []netip.AddrPort{v4}, Count: 1}); err != nil {
		t.Fatalf("spoke: %v\n%s", err, res.Stderr)
	}
	if err := hub.Stop(); err != nil {
		t.Fatalf("hub stop: %v", err)
	}
}

// iroh's Rust logger writes to fd 1; with logging on, the ready and result
// lines must still be the only things on stdout, and the logs go to stderr.
func TestHubAndSpokeWithIrohLogging(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	hub := interop.StartHub(t, interop.HubOptions{LogLevel: "Debug"})
	res, err := interop.RunSpoke(testCtx(t), interop.SpokeOptions{Ticket: hub.Ticket, Count: 2, LogLevel: "Debug"})
	if err != nil {
		t.Fatalf("spoke: %v\n%s", err, res.Stderr)
	}
	if !strings.Contains(res.Stderr, " DEBUG ") {
		t.Errorf("spoke stderr lacks iroh debug logs:\n%.2000s", res.Stderr)
	}
	if err := hub.Stop(); err != nil {
		t.Fatalf("hub stop: %v", err)
	}
	if !strings.Contains(hub.Stderr.String(), " DEBUG ") {
		t.Errorf("hub stderr lacks iroh debug logs")
	}
}
