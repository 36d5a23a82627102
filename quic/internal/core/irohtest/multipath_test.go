package irohtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
	envwire "github.com/alkdev/irohspoke/wire"
)

// dualSock is one IPv4 and one IPv6 UDP socket, like a dual-stack client:
// each path leaves from the socket of its address family.
type dualSock struct {
	v4, v6 *net.UDPConn
	in     chan rx
	sent   map[bool]int // bytes sent, by "is IPv6"
}

type rx struct {
	from netip.AddrPort
	data []byte
}

func newDualSock(t *testing.T) *dualSock {
	v4, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	v6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	d := &dualSock{v4: v4, v6: v6, in: make(chan rx, 1024), sent: map[bool]int{}}
	for _, s := range []*net.UDPConn{v4, v6} {
		go func(s *net.UDPConn) {
			for {
				buf := make([]byte, 2048)
				n, from, err := s.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				d.in <- rx{from: netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), data: buf[:n]}
			}
		}(s)
	}
	t.Cleanup(func() { v4.Close(); v6.Close() })
	return d
}

func (d *dualSock) send(b []byte, to netip.AddrPort) error {
	s := d.v4
	if to.Addr().Is6() {
		s = d.v6
	}
	d.sent[to.Addr().Is6()] += len(b)
	_, err := s.WriteToUDPAddrPort(b, to)
	return err
}

func (d *dualSock) recv(_ *testing.T, wait time.Duration) (netip.AddrPort, []byte, bool) {
	select {
	case r := <-d.in:
		return r.from, r.data, true
	case <-time.After(wait):
		return netip.AddrPort{}, nil, false
	}
}

// pumpDual runs the core over both sockets until cond holds.
func pumpDual(t *testing.T, c *core.Conn, d *dualSock, cond func() bool, limit time.Duration) {
	t.Helper()
	run(t, c, d, cond, limit)
}

// echoer sends envelopes on one stream and counts the hub's echoes.
type echoer struct {
	pad    int    // payload bytes per envelope
	out    []byte // frames not yet accepted by the stream
	c      *core.Conn
	s      streams.StreamID
	in     []byte
	echoed int
	sent   int
}

func (e *echoer) send(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		var err error
		e.out, err = envwire.AppendFrame(e.out, envwire.Envelope{Type: "mp", ID: fmt.Sprint(e.sent), Payload: []byte(`"` + strings.Repeat("x", e.pad) + `"`)})
		if err != nil {
			t.Fatal(err)
		}
		e.sent++
	}
}

func (e *echoer) poll(t *testing.T) bool {
	for len(e.out) > 0 {
		n, err := e.c.Streams().Write(e.s, e.out)
		e.out = e.out[n:]
		if err != nil {
			break
		}
	}
	buf := make([]byte, 64<<10)
	for {
		n, _ := e.c.Streams().Read(e.s, buf)
		if n == 0 {
			break
		}
		e.in = append(e.in, buf[:n]...)
	}
	for len(e.in) >= 4 {
		l := int(e.in[0])<<24 | int(e.in[1])<<16 | int(e.in[2])<<8 | int(e.in[3])
		if len(e.in) < 4+l {
			break
		}
		env, err := envwire.ParseEnvelope(e.in[4 : 4+l])
		if err != nil || env.Type != "mp.echo" || env.ID != fmt.Sprint(e.echoed) {
			t.Fatalf("echo %d: %v %+v", e.echoed, err, env)
		}
		e.in = e.in[4+l:]
		e.echoed++
	}
	return e.echoed == e.sent
}

func drainEvents(c *core.Conn, log *[]core.Event) {
	for {
		ev, ok := c.PollEvent()
		if !ok {
			return
		}
		*log = append(*log, ev)
	}
}

func findEvent(log []core.Event, kind core.EventKind, id core.PathID) bool {
	for _, e := range log {
		if e.Kind == kind && e.Path == id {
			return true
		}
	}
	return false
}

// TestCoreMultipathAgainstIroh negotiates multipath with a real iroh hub
// over IPv4, opens a second path to the hub's IPv6 address, moves the
// traffic there, closes the IPv4 path and keeps echoing.
func TestCoreMultipathAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	v4, ok4 := hub.AddrV4()
	v6, ok6 := hub.AddrV6()
	if !ok4 || !ok6 {
		t.Fatalf("hub addresses %v", hub.Addrs)
	}
	id, _ := hex.DecodeString(hub.EndpointID)
	sk, _ := identity.GenerateSecretKey(nil)
	c, err := core.NewClient(&core.Config{CheckPayloads: true, Multipath: true, TLS: &handshake.Config{
		PrivateKey: sk.PrivateKey(), ALPN: []string{"alkpubsub/1"}, PeerKey: ed25519.PublicKey(id),
	}}, time.Now(), core.UDPAddr(v4))
	if err != nil {
		t.Fatal(err)
	}
	d := newDualSock(t)
	var log []core.Event
	start := time.Now()
	pumpDual(t, c, d, c.HandshakeComplete, 10*time.Second)
	if !c.Multipath() {
		t.Fatal("multipath not negotiated with iroh")
	}
	s, err := c.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	e := &echoer{c: c, s: s}
	e.send(t, 20)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return e.poll(t) }, 10*time.Second)
	st := c.Stats()
	t.Logf("IPv4 path: %d echoes after %v; PATH_ACKs sent %d received %d", e.echoed, time.Since(start), st.PathAcksSent, st.PathAcksReceived)
	if st.PathAcksSent == 0 || st.PathAcksReceived == 0 {
		t.Fatal("no PATH_ACKs exchanged")
	}

	// Second path over IPv6.
	var pid core.PathID
	pumpDual(t, c, d, func() bool {
		drainEvents(c, &log)
		pid, err = c.OpenPath(time.Now(), core.UDPAddr(v6))
		return err == nil
	}, 5*time.Second)
	opened := time.Now()
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return findEvent(log, core.EventPathValidated, pid) }, 10*time.Second)
	t.Logf("path %d to %v validated in %v", pid, v6, time.Since(opened))
	if err := c.SetPathStatus(pid, true); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPathStatus(0, false); err != nil {
		t.Fatal(err)
	}
	v6Before := d.sent[true]
	e.send(t, 50)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return e.poll(t) }, 10*time.Second)
	if d.sent[true]-v6Before < 50*20 {
		t.Fatalf("only %d bytes went over IPv6", d.sent[true]-v6Before)
	}
	if c.RemoteAddr() != core.UDPAddr(v6) {
		t.Fatalf("data path %v", c.RemoteAddr())
	}

	// Close the IPv4 path; echoes continue on IPv6.
	if err := c.ClosePath(time.Now(), 0, core.ApplicationAbandonPath); err != nil {
		t.Fatal(err)
	}
	e.send(t, 50)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return e.poll(t) }, 10*time.Second)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return len(c.Paths()) == 1 }, 10*time.Second)
	v4Before := d.sent[false]
	e.send(t, 50)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return e.poll(t) }, 10*time.Second)
	if d.sent[false] != v4Before {
		t.Fatalf("%d bytes still went over IPv4 after its path closed", d.sent[false]-v4Before)
	}
	st = c.Stats()
	t.Logf("%d echoes total; paths %+v; packets sent %d received %d lost %d; srtt %v; PATH_ACKs sent %d received %d; bytes v4 %d v6 %d",
		e.echoed, c.Paths(), st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.SmoothedRTT,
		st.PathAcksSent, st.PathAcksReceived, d.sent[false], d.sent[true])
	c.Close(time.Now(), 0, "done")
	pumpDual(t, c, d, c.IsClosed, 5*time.Second)
}

// TestCoreMultipathServerWithIrohSpoke runs our core as a multipath server
// on IPv4 and IPv6 sockets and lets the real iroh spoke (a client that may
// open extra paths) echo envelopes through it.
func TestCoreMultipathServerWithIrohSpoke(t *testing.T) {
	d := newDualSock(t)
	sk, _ := identity.GenerateSecretKey(nil)
	pub := sk.Public()
	cfg := &core.Config{CheckPayloads: true, Multipath: true, NatTraversal: true, TLS: &handshake.Config{PrivateKey: sk.PrivateKey(), ALPN: []string{"alkpubsub/1"}}}
	v4 := d.v4.LocalAddr().(*net.UDPAddr).AddrPort()
	v6 := d.v6.LocalAddr().(*net.UDPAddr).AddrPort()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type result struct {
		res interop.SpokeResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := interop.RunSpoke(ctx, interop.SpokeOptions{
			ID: hex.EncodeToString(pub[:]), Addrs: []netip.AddrPort{v4, v6}, Count: 30, Size: 2000, Linger: 1500 * time.Millisecond,
		})
		done <- result{res, err}
	}()

	var c *core.Conn
	var log []core.Event
	srv := &echoServer{}
	announced := false
	buf := make([]byte, 2048)
	for {
		select {
		case r := <-done:
			if r.err != nil || !r.res.OK || r.res.Echoes != 30 {
				t.Fatalf("iroh spoke: %v %+v\n%s", r.err, r.res, r.res.Stderr)
			}
			if c == nil {
				t.Fatal("no connection")
			}
			st := c.Stats()
			t.Logf("iroh spoke: connect %.2f ms, %d echoes; multipath %v, NAT traversal %v; paths %+v; PATH_ACKs sent %d received %d; bytes v4 %d v6 %d",
				*r.res.ConnectMs, r.res.Echoes, c.Multipath(), c.NatTraversal().Negotiated(), c.Paths(), st.PathAcksSent, st.PathAcksReceived, d.sent[false], d.sent[true])
			for _, e := range log {
				if e.Kind >= core.EventPathOpened {
					t.Logf("event kind %d path %d status %v code %#x remote %v", e.Kind, e.Path, e.Status, e.Code, e.Remote)
				}
			}
			if !c.Multipath() || st.PathAcksReceived == 0 {
				t.Fatal("multipath was not used")
			}
			return
		case in := <-d.in:
			now := time.Now()
			if c == nil {
				h, err := wire.ParseHeader(in.data, core.LocalCIDLen)
				if err != nil || h.Type != wire.PacketInitial {
					continue
				}
				local := make([]byte, core.LocalCIDLen)
				rand.Read(local)
				if c, err = core.NewServer(cfg, now, core.UDPAddr(in.from), h.DCID, h.SCID, local); err != nil {
					t.Fatal(err)
				}
			}
			c.HandleDatagram(now, core.UDPAddr(in.from), 0, in.data)
		case <-time.After(5 * time.Millisecond):
		}
		if c == nil {
			continue
		}
		now := time.Now()
		if at, ok := c.Timeout(); ok && !now.Before(at) {
			c.HandleTimeout(now)
		}
		drainEvents(c, &log)
		if c.NatTraversal().Negotiated() && !announced {
			// Announce both sockets, as iroh's server does.
			announced = true
			c.NatTraversal().AddAddress(v4)
			c.NatTraversal().AddAddress(v6)
		}
		srv.serve(t, c)
		for {
			n, to := c.PollTransmit(now, buf)
			if n == 0 {
				break
			}
			d.send(buf[:n], to.UDP)
		}
	}
}

// echoServer answers every envelope on the peer's bidi streams with its
// ".echo", like the hub.
type echoServer struct {
	streams []streams.StreamID
	in      map[streams.StreamID][]byte
}

func (e *echoServer) serve(t *testing.T, c *core.Conn) {
	if e.in == nil {
		e.in = map[streams.StreamID][]byte{}
	}
	for {
		s, ok := c.Streams().Accept(true)
		if !ok {
			break
		}
		e.streams = append(e.streams, s)
	}
	buf := make([]byte, 16<<10)
	for _, s := range e.streams {
		for {
			n, _ := c.Streams().Read(s, buf)
			if n == 0 {
				break
			}
			e.in[s] = append(e.in[s], buf[:n]...)
		}
		in := e.in[s]
		for len(in) >= 4 {
			l := int(in[0])<<24 | int(in[1])<<16 | int(in[2])<<8 | int(in[3])
			if len(in) < 4+l {
				break
			}
			env, err := envwire.ParseEnvelope(in[4 : 4+l])
			if err != nil {
				t.Fatalf("envelope: %v", err)
			}
			out, err := envwire.AppendFrame(nil, envwire.Envelope{Type: env.Type + ".echo", ID: env.ID, Payload: env.Payload})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Streams().Write(s, out); err != nil {
				t.Fatalf("write echo: %v", err)
			}
			in = in[4+l:]
		}
		e.in[s] = in
	}
}

// TestCoreMultipathBulkAgainstIroh pushes a few MB through iroh on path 0,
// then on an IPv6 path, so iroh's early key update and PATH_ACKs under
// load meet both packet-number spaces.
func TestCoreMultipathBulkAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	v4, _ := hub.AddrV4()
	v6, _ := hub.AddrV6()
	id, _ := hex.DecodeString(hub.EndpointID)
	sk, _ := identity.GenerateSecretKey(nil)
	c, err := core.NewClient(&core.Config{CheckPayloads: true, Multipath: true, KeyUpdateInterval: 500, TLS: &handshake.Config{
		PrivateKey: sk.PrivateKey(), ALPN: []string{"alkpubsub/1"}, PeerKey: ed25519.PublicKey(id),
	}}, time.Now(), core.UDPAddr(v4))
	if err != nil {
		t.Fatal(err)
	}
	d := newDualSock(t)
	var log []core.Event
	pumpDual(t, c, d, c.HandshakeComplete, 10*time.Second)
	s, _ := c.Streams().Open(true)
	e := &echoer{c: c, s: s, pad: 8000}
	start := time.Now()
	e.send(t, 200)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return e.poll(t) }, 30*time.Second)
	var pid core.PathID
	pumpDual(t, c, d, func() bool { pid, err = c.OpenPath(time.Now(), core.UDPAddr(v6)); return err == nil }, 5*time.Second)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return findEvent(log, core.EventPathValidated, pid) }, 10*time.Second)
	c.SetPathStatus(0, false)
	v6Before := d.sent[true]
	t.Logf("before switch: %+v", c.Stats())
	e.send(t, 200)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return e.poll(t) }, 30*time.Second)
	st := c.Stats()
	t.Logf("%d envelopes of %d bytes echoed in %v; IPv6 carried %d bytes after the switch; key updates %d; sent %d received %d lost %d; PATH_ACKs sent %d received %d",
		e.echoed, e.pad, time.Since(start), d.sent[true]-v6Before, st.KeyUpdates, st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.PathAcksSent, st.PathAcksReceived)
	if st.KeyUpdates < 2 {
		t.Fatalf("only %d key updates", st.KeyUpdates)
	}
	if d.sent[true]-v6Before < 200*8000 {
		t.Fatal("the IPv6 path did not carry the second half")
	}
	c.Close(time.Now(), 0, "done")
	pumpDual(t, c, d, c.IsClosed, 5*time.Second)
}
