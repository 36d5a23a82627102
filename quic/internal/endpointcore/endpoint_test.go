package endpointcore

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/admission"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

var (
	serverAddr = udp("10.0.0.1:443")
	clientAddr = udp("10.0.0.2:5000")
)

func established(c *core.Conn) func() bool {
	return func() bool { return c.HandshakeComplete() }
}

// TestHandshakeAndAccept: a client and a server endpoint carry a handshake;
// the server connection waits in the accept queue, and CIDs issued after
// the handshake are routed.
func TestHandshakeAndAccept(t *testing.T) {
	n := newSimNet(t, 1)
	srv := n.addHost(serverAddr, true, Config{})
	cli := n.addHost(clientAddr, false, Config{})
	c := cli.dial(serverAddr)
	n.runUntil(func() bool { return c.HandshakeComplete() && len(srv.conns) == 1 && srv.handshaken[srv.conns[0]] }, 5*time.Second)
	s, ok := srv.ep.Accepted()
	if !ok || s != srv.conns[0] {
		t.Fatalf("accept queue gave %p %v, want %p", s, ok, srv.conns[0])
	}
	if _, ok := srv.ep.Accepted(); ok {
		t.Fatal("a second connection in the accept queue")
	}
	if _, ok := cli.ep.Accepted(); ok {
		t.Fatal("a client connection was queued for Accept")
	}
	n.settle(time.Second)
	if got := srv.ep.Routes(s); got < 2 {
		t.Fatalf("server connection has %d routes", got)
	}
	if p := srv.ep.Pending(); p != 0 {
		t.Fatalf("%d handshakes pending after completion", p)
	}
	// Stream data flows through the routes.
	id, err := c.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	c.Streams().Write(id, []byte("hello"))
	c.Streams().CloseWrite(id)
	n.runUntil(func() bool { _, ok := s.Streams().Accept(true); return ok }, 5*time.Second)
}

// TestRetry: above RetryAbove the server answers a first Initial with a
// Retry and keeps no state; the client follows it and gets in.
func TestRetry(t *testing.T) {
	n := newSimNet(t, 2)
	srv := n.addHost(serverAddr, true, Config{Admission: admission.Config{RetryAbove: -1}})
	cli := n.addHost(clientAddr, false, Config{})
	retries := 0
	n.drop = func(from, to core.Addr, d []byte) bool {
		if h, err := wire.ParseHeader(d, core.LocalCIDLen); err == nil && h.Type == wire.PacketRetry {
			retries++
			if conns, _, _ := srv.ep.Len(); conns != 0 {
				t.Errorf("%d connections held when sending a Retry", conns)
			}
		}
		return false
	}
	c := cli.dial(serverAddr)
	n.runUntil(established(c), 5*time.Second)
	if retries != 1 {
		t.Fatalf("%d Retry packets, want 1", retries)
	}
	n.settle(time.Second)
	if p := srv.ep.Pending(); p != 0 {
		t.Fatalf("%d handshakes pending", p)
	}
}

// TestVersionNegotiation: a client-sized datagram of another version gets
// a Version Negotiation packet echoing its CIDs; a small one gets nothing,
// and answers are rate-limited.
func TestVersionNegotiation(t *testing.T) {
	n := newSimNet(t, 3)
	srv := n.addHost(serverAddr, true, Config{ResponsesPerSecond: 2})
	pkt := []byte{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 4, 1, 2, 3, 4, 2, 9, 9}
	if r := srv.ep.Handle(n.now, clientAddr, pkt, nil); r.Action != Drop {
		t.Fatalf("small datagram: %v", r.Action)
	}
	big := append(pkt, make([]byte, 1200)...)
	for i := range 3 {
		r := srv.ep.Handle(n.now, clientAddr, big, nil)
		if i == 2 {
			if r.Action != Drop {
				t.Fatalf("answer %d beyond the limit: %v", i, r.Action)
			}
			break
		}
		if r.Action != Respond {
			t.Fatalf("answer %d: %v", i, r.Action)
		}
		h, err := wire.ParseHeader(r.Response, core.LocalCIDLen)
		if err != nil || h.Type != wire.PacketVersionNegotiation || !bytes.Equal(h.DCID, []byte{9, 9}) || !bytes.Equal(h.SCID, []byte{1, 2, 3, 4}) {
			t.Fatalf("answer %x: %v", r.Response, err)
		}
	}
	if r := srv.ep.Handle(n.now.Add(time.Second), clientAddr, big, nil); r.Action != Respond {
		t.Fatalf("after a second: %v", r.Action)
	}
}

// TestStatelessReset: a server that lost a connection answers its next
// packet with a stateless reset; the client's endpoint finds the
// connection by the token and the connection ends.
func TestStatelessReset(t *testing.T) {
	n := newSimNet(t, 4)
	srv := n.addHost(serverAddr, true, Config{})
	cli := n.addHost(clientAddr, false, Config{})
	c := cli.dial(serverAddr)
	n.runUntil(func() bool { return c.HandshakeComplete() && len(srv.conns) == 1 }, 5*time.Second)
	n.settle(time.Second)
	srv.ep.Remove(srv.conns[0])
	srv.conns = nil
	if conns, routes, tokens := srv.ep.Len(); conns+routes+tokens != 0 {
		t.Fatalf("after Remove: %d connections, %d routes, %d tokens", conns, routes, tokens)
	}
	c.Ping()
	n.runUntil(c.IsClosed, 5*time.Second)
	if !errors.Is(c.Err(), core.ErrStatelessReset) {
		t.Fatalf("client closed with %v", c.Err())
	}
}

// TestClosedEndpointSendsNoReset: once closed, an endpoint neither resets
// unknown connections nor starts new ones.
func TestClosedEndpointSendsNoReset(t *testing.T) {
	n := newSimNet(t, 5)
	srv := n.addHost(serverAddr, true, Config{})
	short := append([]byte{0x40}, bytes.Repeat([]byte{7}, 40)...)
	if r := srv.ep.Handle(n.now, clientAddr, short, nil); r.Action != Respond || len(r.Response) >= len(short) {
		t.Fatalf("open endpoint: %v, %d bytes", r.Action, len(r.Response))
	}
	srv.ep.Close()
	if r := srv.ep.Handle(n.now.Add(time.Second), clientAddr, short, nil); r.Action != Drop {
		t.Fatalf("closed endpoint: %v", r.Action)
	}
	cli := n.addHost(clientAddr, false, Config{})
	c := cli.dial(serverAddr)
	n.settle(2 * time.Second)
	if c.HandshakeComplete() || len(srv.conns) != 0 {
		t.Fatal("a closed endpoint accepted a connection")
	}
}

// TestAcceptQueueFull: while the accept queue is full, an Initial is
// answered with CONNECTION_REFUSED before any handshake work; taking a
// connection from the queue makes room.
func TestAcceptQueueFull(t *testing.T) {
	n := newSimNet(t, 6)
	srv := n.addHost(serverAddr, true, Config{AcceptQueue: 1})
	a := n.addHost(udp("10.0.1.1:1000"), false, Config{}).dial(serverAddr)
	n.runUntil(func() bool { return a.HandshakeComplete() && len(srv.handshaken) == 1 }, 5*time.Second)
	b := n.addHost(udp("10.0.1.1:2000"), false, Config{}).dial(serverAddr)
	n.runUntil(func() bool { return b.Err() != nil }, 5*time.Second)
	var ce *core.CloseError
	if !errors.As(b.Err(), &ce) || !ce.Remote || ce.Application || ce.Code != uint64(wire.ConnectionRefused) {
		t.Fatalf("refused client ended with %v", b.Err())
	}
	if conns, _, _ := srv.ep.Len(); conns != 1 || len(srv.handshaken) != 1 || srv.ep.Pending() != 0 {
		t.Fatalf("server holds %d connections, %d handshaken, %d pending for a refused client", conns, len(srv.handshaken), srv.ep.Pending())
	}
	if _, ok := srv.ep.Accepted(); !ok {
		t.Fatal("nothing to accept")
	}
	c := n.addHost(clientAddr, false, Config{}).dial(serverAddr)
	n.runUntil(established(c), 5*time.Second)
}

// TestAcceptQueueKeepsAdmittedHandshakes: handshakes admitted while the
// queue had room all get a place, even past AcceptQueue, rather than
// being closed once their work is done.
func TestAcceptQueueKeepsAdmittedHandshakes(t *testing.T) {
	n := newSimNet(t, 9)
	srv := n.addHost(serverAddr, true, Config{AcceptQueue: 1})
	var clients []*core.Conn
	for _, a := range []string{"10.0.1.1:1000", "10.0.1.2:1000", "10.0.1.3:1000"} {
		clients = append(clients, n.addHost(udp(a), false, Config{}).dial(serverAddr))
	}
	n.runUntil(func() bool { return len(srv.handshaken) == 3 }, 5*time.Second)
	for i, c := range clients {
		if !c.HandshakeComplete() || c.Err() != nil {
			t.Fatalf("client %d: complete %v, err %v", i, c.HandshakeComplete(), c.Err())
		}
	}
	for i := range clients {
		if _, ok := srv.ep.Accepted(); !ok {
			t.Fatalf("connection %d not queued", i)
		}
	}
}

// TestMaxIncoming: past MaxIncoming an Initial starts nothing and is
// refused; a slot frees when a connection is removed.
func TestMaxIncoming(t *testing.T) {
	n := newSimNet(t, 7)
	srv := n.addHost(serverAddr, true, Config{MaxIncoming: 1})
	a := n.addHost(udp("10.0.2.1:1000"), false, Config{}).dial(serverAddr)
	n.runUntil(established(a), 5*time.Second)
	b := n.addHost(udp("10.0.2.2:1000"), false, Config{}).dial(serverAddr)
	n.settle(2 * time.Second)
	var ce *core.CloseError
	if b.HandshakeComplete() || len(srv.conns) != 1 || !errors.As(b.Err(), &ce) || !ce.Remote || ce.Code != uint64(wire.ConnectionRefused) {
		t.Fatalf("second connection: complete %v, err %v, server holds %d", b.HandshakeComplete(), b.Err(), len(srv.conns))
	}
	srv.ep.Remove(srv.conns[0])
	srv.conns = nil
	c := n.addHost(udp("10.0.2.3:1000"), false, Config{}).dial(serverAddr)
	n.runUntil(established(c), 5*time.Second)
}

// TestPendingPerSource: one source gets at most MaxPendingPerSource
// handshakes in progress; another source still gets in.
func TestPendingPerSource(t *testing.T) {
	n := newSimNet(t, 8)
	srv := n.addHost(serverAddr, true, Config{Admission: admission.Config{MaxPendingPerSource: 2, RetryAbove: 100}})
	// Three clients on one IP whose handshakes never finish: the server's
	// answers to that IP are lost.
	n.drop = func(from, to core.Addr, d []byte) bool {
		return from == serverAddr && to.UDP.Addr() == clientAddr.UDP.Addr()
	}
	for _, a := range []string{"10.0.0.2:6000", "10.0.0.2:6001", "10.0.0.2:6002"} {
		n.addHost(udp(a), false, Config{}).dial(serverAddr)
	}
	n.settle(300 * time.Millisecond)
	if conns, _, _ := srv.ep.Len(); conns != 2 {
		t.Fatalf("%d connections from one source, want 2", conns)
	}
	other := n.addHost(udp("10.0.3.1:1000"), false, Config{}).dial(serverAddr)
	n.runUntil(established(other), 5*time.Second)
}
