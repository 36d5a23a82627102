package quic

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

// dualStackEndpoint listens on [::]:0, reachable over IPv4 and IPv6.
func dualStackEndpoint(t *testing.T, cfg *Config) *Endpoint {
	t.Helper()
	tr, err := ListenUDP("[::]:0")
	if err != nil {
		t.Skipf("no dual-stack UDP socket: %v", err)
	}
	e, err := NewEndpoint(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// echoStream echoes everything on the peer's first stream.
func echoStream(t *testing.T, conn *Conn) {
	go func() {
		s, err := conn.AcceptStream(context.Background())
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
}

func roundTrip(t *testing.T, s *Stream, msg []byte) {
	t.Helper()
	if _, err := s.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(s, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(msg) {
		t.Fatal("echo differs")
	}
}

func TestMultipathOpenPathAPI(t *testing.T) {
	scfg := &Config{ALPNs: []string{testALPN}, Multipath: true}
	sep := dualStackEndpoint(t, scfg)
	cep := dualStackEndpoint(t, &Config{Multipath: true})
	port := addrOf(t, sep.LocalAddr()).UDP.Port()
	v4 := UDPAddr(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	v6 := UDPAddr(netip.AddrPortFrom(netip.IPv6Loopback(), port))
	ctx := testCtx(t)
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := sep.Accept(ctx)
		if err == nil {
			accepted <- c
		}
	}()
	client, err := cep.Dial(ctx, v4, sep.ID(), testALPN)
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	echoStream(t, server)
	if !client.Multipath() || !server.Multipath() {
		t.Fatal("multipath not negotiated")
	}
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s, []byte("over IPv4"))

	if _, err := server.OpenPath(ctx, v4); !errors.Is(err, ErrServerCannotOpenPath) {
		t.Fatalf("server OpenPath: %v", err)
	}
	id, err := client.OpenPath(ctx, v6)
	if err != nil {
		t.Fatalf("OpenPath(%v): %v", v6, err)
	}
	if err := client.SetPathStatus(0, false); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s, []byte("over IPv6"))
	if client.RemoteAddr() != v6 {
		t.Fatalf("data path %v", client.RemoteAddr())
	}
	if err := client.ClosePath(0, AbandonPathApplication); err != nil {
		t.Fatal(err)
	}
	if err := client.ClosePath(id, AbandonPathApplication); !errors.Is(err, ErrLastPath) {
		t.Fatalf("closing the last path: %v", err)
	}
	roundTrip(t, s, []byte("after closing IPv4"))
	deadline := time.Now().Add(5 * time.Second)
	for len(server.Paths()) != 1 || len(client.Paths()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("paths: client %+v server %+v", client.Paths(), server.Paths())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p := server.Paths()[0]; p.ID != id || !p.Validated {
		t.Fatalf("server path %+v", p)
	}
	roundTrip(t, s, []byte("still there"))
}

func TestMultipathOffByDefault(t *testing.T) {
	client, server, _, _ := pair(t, &Config{Multipath: true}, nil)
	if client.Multipath() || server.Multipath() {
		t.Fatal("multipath negotiated with a peer that did not enable it")
	}
	if _, err := client.OpenPath(testCtx(t), client.RemoteAddr()); !errors.Is(err, ErrMultipathNotNegotiated) {
		t.Fatalf("OpenPath: %v", err)
	}
	if p := client.Paths(); len(p) != 1 || p[0].ID != 0 {
		t.Fatalf("paths %+v", p)
	}
}

func TestNatTraversalAPI(t *testing.T) {
	sep := dualStackEndpoint(t, &Config{ALPNs: []string{testALPN}, Multipath: true, NatTraversal: true})
	cep := dualStackEndpoint(t, &Config{Multipath: true, NatTraversal: true})
	sport := addrOf(t, sep.LocalAddr()).UDP.Port()
	cport := addrOf(t, cep.LocalAddr()).UDP.Port()
	v4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), sport)
	v6 := netip.AddrPortFrom(netip.IPv6Loopback(), sport)
	ctx := testCtx(t)
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := sep.Accept(ctx)
		if err == nil {
			accepted <- c
		}
	}()
	client, err := cep.Dial(ctx, UDPAddr(v4), sep.ID(), testALPN)
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if !client.NatTraversal() || !server.NatTraversal() {
		t.Fatal("NAT traversal not negotiated")
	}
	if err := server.AddNatAddress(v6); err != nil {
		t.Fatal(err)
	}
	if err := client.AddNatAddress(v6); !errors.Is(err, ErrNatWrongSide) {
		t.Fatalf("client AddNatAddress: %v", err)
	}
	waitFor(t, func() bool { return len(client.NatRemoteAddresses()) == 1 })
	local := []netip.AddrPort{netip.AddrPortFrom(netip.IPv6Loopback(), cport)}
	waitFor(t, func() bool {
		if err := client.StartNatTraversalRound(local); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		for _, p := range client.Paths() {
			if p.Addr == UDPAddr(v6) && p.Validated && p.Status == PathBackup {
				return true
			}
		}
		return false
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRouteKeysFollowRetiredCIDs: every path the client opens and closes
// gives the server CIDs that are then retired; the server's routes and
// its list of them to remove must not grow with the number of paths.
func TestRouteKeysFollowRetiredCIDs(t *testing.T) {
	scfg := &Config{ALPNs: []string{testALPN}, Multipath: true}
	sep := dualStackEndpoint(t, scfg)
	cep := dualStackEndpoint(t, &Config{Multipath: true})
	port := addrOf(t, sep.LocalAddr()).UDP.Port()
	addrs := [2]Addr{
		UDPAddr(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)),
		UDPAddr(netip.AddrPortFrom(netip.IPv6Loopback(), port)),
	}
	ctx := testCtx(t)
	client, server := dialAccept(t, cep, sep, addrs[0])
	keys := func() int {
		sep.mu.Lock()
		defer sep.mu.Unlock()
		return sep.ep.Routes(server)
	}
	// The CIDs are issued just after the handshake's last packet: wait for
	// the step that issues them to finish.
	waitFor(t, func() bool { return keys() > 2 })
	server.mu.Lock()
	server.mu.Unlock()
	first := keys()
	var old PathID
	for i := 1; i <= 12; i++ {
		id, err := client.OpenPath(ctx, addrs[i%2])
		if err != nil {
			t.Fatalf("path %d: %v", i, err)
		}
		if err := client.ClosePath(old, AbandonPathApplication); err != nil {
			t.Fatalf("close path %d: %v", old, err)
		}
		waitFor(t, func() bool { return len(server.Paths()) == 1 })
		old = id
	}
	sep.mu.Lock()
	_, routes, _ := sep.ep.Len()
	sep.mu.Unlock()
	t.Logf("route keys: %d after the handshake, %d after 12 paths; endpoint routes %d", first, keys(), routes)
	if n := keys(); n > 2*first {
		t.Fatalf("%d route keys after 12 paths (%d after the handshake)", n, first)
	}
}
