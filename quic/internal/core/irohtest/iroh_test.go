// Package irohtest drives the sans-IO core directly against a real iroh 1.0
// hub over UDP, below the public quic API, so core interop bugs show up
// without the driver in the way.
package irohtest

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/wire"
)

func TestMain(m *testing.M) {
	os.Exit(interop.InNetns(m))
}

// bigReceived counts datagrams of at least 1400 bytes pump received: iroh
// sends those only after its PMTU probes were acknowledged.
var bigReceived int

// link carries the core's datagrams for a test.
type link interface {
	send(b []byte, to netip.AddrPort) error
	// recv waits up to wait for one datagram; ok is false on a timeout.
	recv(t *testing.T, wait time.Duration) (from netip.AddrPort, data []byte, ok bool)
}

// udpLink is one UDP socket.
type udpLink struct {
	sock *net.UDPConn
	buf  []byte
}

func (u *udpLink) send(b []byte, to netip.AddrPort) error {
	_, err := u.sock.WriteToUDPAddrPort(b, to)
	return err
}

func (u *udpLink) recv(t *testing.T, wait time.Duration) (netip.AddrPort, []byte, bool) {
	if u.buf == nil {
		u.buf = make([]byte, 2048)
	}
	u.sock.SetReadDeadline(time.Now().Add(wait))
	n, from, err := u.sock.ReadFromUDPAddrPort(u.buf)
	if err != nil {
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatal(err)
		}
		return netip.AddrPort{}, nil, false
	}
	if n >= 1400 {
		bigReceived++
	}
	return from, u.buf[:n], true
}

// pump runs the core over a UDP socket until cond holds or limit passes.
func pump(t *testing.T, c *core.Conn, sock *net.UDPConn, cond func() bool, limit time.Duration) {
	t.Helper()
	run(t, c, &udpLink{sock: sock}, cond, limit)
}

// run drives the core over l until cond holds or limit passes.
func run(t *testing.T, c *core.Conn, l link, cond func() bool, limit time.Duration) {
	t.Helper()
	buf := make([]byte, 2048)
	deadline := time.Now().Add(limit)
	for !cond() {
		now := time.Now()
		if now.After(deadline) {
			t.Fatalf("not reached within %v (conn err: %v)", limit, c.Err())
		}
		for {
			n, to := c.PollTransmit(now, buf)
			if n == 0 {
				break
			}
			if err := l.send(buf[:n], to.UDP); err != nil {
				t.Fatal(err)
			}
		}
		wait := 50 * time.Millisecond
		if at, ok := c.Timeout(); ok && at.Sub(now) < wait {
			wait = max(at.Sub(now), time.Microsecond)
		}
		if from, data, ok := l.recv(t, wait); ok {
			c.HandleDatagram(time.Now(), core.UDPAddr(from), 0, data)
		}
		now = time.Now()
		if at, ok := c.Timeout(); ok && !now.Before(at) {
			c.HandleTimeout(now)
		}
		if c.IsClosed() {
			if !cond() {
				t.Fatalf("connection closed: %v", c.Err())
			}
			return
		}
	}
}

func dial(t *testing.T, hub *interop.Hub, peer []byte, alpn string) (*core.Conn, *net.UDPConn) {
	addr, ok := hub.AddrV4()
	if !ok {
		t.Fatal("hub has no IPv4 address")
	}
	sock, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	sk, _ := identity.GenerateSecretKey(nil)
	c, err := core.NewClient(&core.Config{CheckPayloads: true, TLS: &handshake.Config{
		PrivateKey: sk.PrivateKey(), ALPN: []string{alpn}, PeerKey: ed25519.PublicKey(peer),
	}}, time.Now(), core.UDPAddr(addr))
	if err != nil {
		t.Fatal(err)
	}
	return c, sock
}

func TestCoreEchoAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	id, _ := hex.DecodeString(hub.EndpointID)
	c, sock := dial(t, hub, id, "alkpubsub/1")
	pump(t, c, sock, c.HandshakeComplete, 10*time.Second)
	s, err := c.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := wire.AppendFrame(nil, wire.Envelope{Type: "greet", ID: "1", Payload: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Streams().Write(s, frame); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	pump(t, c, sock, func() bool {
		n, _ := c.Streams().Read(s, buf)
		got = append(got, buf[:n]...)
		return len(got) >= 4 && len(got) >= 4+int(got[0])<<24|int(got[1])<<16|int(got[2])<<8|int(got[3])
	}, 10*time.Second)
	env, err := wire.ParseEnvelope(got[4:])
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != "greet.echo" || env.ID != "1" || string(env.Payload) != `{"n":1}` {
		t.Fatalf("echo %+v", env)
	}
	c.Close(time.Now(), 0, "done")
	pump(t, c, sock, c.IsClosed, 5*time.Second)
}

func TestCoreWrongIDAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	other, _ := identity.GenerateSecretKey(nil)
	pub := other.Public()
	c, sock := dial(t, hub, pub[:], "alkpubsub/1")
	pump(t, c, sock, func() bool { return c.Err() != nil }, 10*time.Second)
	var ce *core.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != 0x100+48 || c.HandshakeComplete() {
		t.Fatalf("err %v", c.Err())
	}
}

func TestCoreWrongALPNAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	id, _ := hex.DecodeString(hub.EndpointID)
	c, sock := dial(t, hub, id, "nope/1")
	pump(t, c, sock, func() bool { return c.Err() != nil }, 10*time.Second)
	var ce *core.CloseError
	if !errors.As(c.Err(), &ce) || !ce.Remote || ce.Code != 0x178 {
		t.Fatalf("err %v", c.Err())
	}
}

// TestCoreBulkEchoAgainstIroh sends envelopes of mixed sizes up to 1 MiB and
// checks every echo, which exercises flow control, loss-free bulk transfer
// and the key update iroh starts after 10-999 packets.
func TestCoreBulkEchoAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	id, _ := hex.DecodeString(hub.EndpointID)
	c, sock := dial(t, hub, id, "alkpubsub/1")
	pump(t, c, sock, c.HandshakeComplete, 10*time.Second)
	s, err := c.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	const count = 200
	var out []byte
	sizes := make([]int, count)
	for i := range sizes {
		sizes[i] = (i * 7919) % 4096
		if i%50 == 0 {
			sizes[i] = 1 << 20
		}
		payload := make([]byte, 0, sizes[i]+2)
		payload = append(payload, '"')
		for j := 0; j < sizes[i]; j++ {
			payload = append(payload, 'a'+byte((i+j)%26))
		}
		payload = append(payload, '"')
		out, err = wire.AppendFrame(out, wire.Envelope{Type: "bulk", ID: string(rune('A' + i%26)), Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
	}
	var in []byte
	buf := make([]byte, 64<<10)
	echoed := 0
	written := 0
	pump(t, c, sock, func() bool {
		written, in = exchange(c, s, out, written, in, buf)
		for len(in) >= 4 {
			l := int(in[0])<<24 | int(in[1])<<16 | int(in[2])<<8 | int(in[3])
			if len(in) < 4+l {
				break
			}
			env, err := wire.ParseEnvelope(in[4 : 4+l])
			if err != nil || env.Type != "bulk.echo" || len(env.Payload) != sizes[echoed]+2 {
				t.Fatalf("echo %d: %v type %q len %d", echoed, err, env.Type, len(env.Payload))
			}
			in = in[4+l:]
			echoed++
		}
		for {
			if _, ok := c.PollEvent(); !ok {
				break
			}
		}
		return echoed == count
	}, 60*time.Second)
	st := c.Stats()
	t.Logf("echoed %d envelopes (%d bytes each way); packets sent %d received %d lost %d; key updates %d; srtt %v",
		count, len(out), st.PacketsSent, st.PacketsReceived, st.PacketsLost, st.KeyUpdates, st.SmoothedRTT)
	if st.KeyUpdates == 0 {
		t.Fatal("no key update happened (iroh starts one after 10-999 packets)")
	}
}

// TestCorePMTUDAgainstIroh: our probes to iroh climb to 1452 bytes, bulk
// echoes then travel in full-size datagrams both ways (iroh's own probes to
// us were acknowledged, or it would stay at 1200).
func TestCorePMTUDAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	id, _ := hex.DecodeString(hub.EndpointID)
	c, sock := dial(t, hub, id, "alkpubsub/1")
	pump(t, c, sock, c.HandshakeComplete, 10*time.Second)
	pump(t, c, sock, func() bool { return c.Stats().MaxDatagramSize == core.DefaultMTUUpperBound }, 10*time.Second)
	s, err := c.Streams().Open(true)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 0, 512<<10)
	payload = append(payload, '"')
	for len(payload) < cap(payload)-1 {
		payload = append(payload, 'a'+byte(len(payload)%26))
	}
	payload = append(payload, '"')
	out, err := wire.AppendFrame(nil, wire.Envelope{Type: "bulk", ID: "mtu", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	bigReceived = 0
	var in []byte
	buf := make([]byte, 64<<10)
	written := 0
	pump(t, c, sock, func() bool {
		written, in = exchange(c, s, out, written, in, buf)
		for {
			if _, ok := c.PollEvent(); !ok {
				break
			}
		}
		return len(in) >= 4 && len(in) >= 4+(int(in[0])<<24|int(in[1])<<16|int(in[2])<<8|int(in[3]))
	}, 30*time.Second)
	env, err := wire.ParseEnvelope(in[4:])
	if err != nil || env.Type != "bulk.echo" || len(env.Payload) != len(payload) {
		t.Fatalf("echo: %v type %q len %d", err, env.Type, len(env.Payload))
	}
	st := c.Stats()
	t.Logf("MTU %d, probes sent %d lost %d; %d datagrams of ≥1400 bytes from iroh; packets sent %d lost %d",
		st.MaxDatagramSize, st.MTUProbesSent, st.MTUProbesLost, bigReceived, st.PacketsSent, st.PacketsLost)
	if st.MaxDatagramSize != core.DefaultMTUUpperBound || st.BlackHoles != 0 {
		t.Errorf("MTU %d, black holes %d", st.MaxDatagramSize, st.BlackHoles)
	}
	if bigReceived < 100 {
		t.Errorf("only %d datagrams of ≥1400 bytes from iroh: its probes to us were not acknowledged", bigReceived)
	}
}

// exchange writes what is left of out (from written on) and appends all
// readable stream data to in, returning the new positions.
func exchange(c *core.Conn, s streams.StreamID, out []byte, written int, in, buf []byte) (int, []byte) {
	for written < len(out) {
		n, err := c.Streams().Write(s, out[written:])
		written += n
		if err != nil {
			break
		}
	}
	for {
		n, err := c.Streams().Read(s, buf)
		in = append(in, buf[:n]...)
		if n == 0 || err != nil {
			return written, in
		}
	}
}
