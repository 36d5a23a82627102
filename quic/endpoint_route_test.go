package quic

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/endpointcore"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// rawPeer is a plain UDP socket talking to an endpoint.
func rawPeer(t *testing.T, e *Endpoint) (*net.UDPConn, *net.UDPAddr) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, e.LocalAddr().(*net.UDPAddr)
}

func readReply(t *testing.T, c *net.UDPConn, wait time.Duration) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(wait))
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// minResetSize is RFC 9000 §10.3's: 5 unpredictable bytes and the token.
const minResetSize = 21

func TestStatelessResetForUnknownCID(t *testing.T) {
	e := newTestEndpoint(t, nil)
	c, to := rawPeer(t, e)
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	trigger := append([]byte{0x40}, dcid...)
	trigger = append(trigger, bytes.Repeat([]byte{0xaa}, 60)...)
	c.WriteToUDP(trigger, to)
	reply := readReply(t, c, 2*time.Second)
	if reply == nil {
		t.Fatal("no stateless reset")
	}
	token := e.resetKey.Token(dcid)
	if len(reply) < minResetSize || len(reply) >= len(trigger) || reply[0]&0xc0 != 0x40 || !bytes.Equal(reply[len(reply)-16:], token[:]) {
		t.Fatalf("bad reset %x (trigger %d bytes)", reply, len(trigger))
	}
	// A trigger too short to answer with a shorter reset gets nothing.
	c.WriteToUDP(trigger[:minResetSize], to)
	if r := readReply(t, c, 100*time.Millisecond); r != nil {
		t.Fatalf("answered a %d-byte trigger with %d bytes", minResetSize, len(r))
	}
}

func TestVersionNegotiation(t *testing.T) {
	e := newTestEndpoint(t, &Config{ALPNs: []string{testALPN}})
	c, to := rawPeer(t, e)
	dcid, scid := []byte("0123456789"), []byte("abcd")
	pkt := []byte{0xc0}
	pkt = binary.BigEndian.AppendUint32(pkt, 0x1a2a3a4a)
	pkt = append(pkt, byte(len(dcid)))
	pkt = append(pkt, dcid...)
	pkt = append(pkt, byte(len(scid)))
	pkt = append(pkt, scid...)
	small := append([]byte(nil), pkt...)
	pkt = append(pkt, make([]byte, 1200-len(pkt))...)
	c.WriteToUDP(small, to) // too small to deserve an answer
	c.WriteToUDP(pkt, to)
	reply := readReply(t, c, 2*time.Second)
	h, err := wire.ParseHeader(reply, core.LocalCIDLen)
	if err != nil || h.Type != wire.PacketVersionNegotiation {
		t.Fatalf("reply %x: %v %v", reply, h.Type, err)
	}
	if !bytes.Equal(h.DCID, scid) || !bytes.Equal(h.SCID, dcid) {
		t.Fatalf("CIDs not echoed: %x %x", h.DCID, h.SCID)
	}
	if vs := h.Versions(nil); len(vs) != 1 || vs[0] != wire.Version1 {
		t.Fatalf("versions %v", vs)
	}
	if r := readReply(t, c, 100*time.Millisecond); r != nil {
		t.Fatalf("extra reply %x", r)
	}
}

// TestResetIndex: every token the peer gave a connection routes a
// reset-shaped datagram to it, and the index empties when it closes.
func TestResetIndex(t *testing.T) {
	c, s, cep, sep := pair(t, nil, nil)
	waitFor(t, func() bool { return len(tokensOf(s)) > 0 && len(tokensOf(c)) > 0 })
	for _, side := range []struct {
		conn *Conn
		ep   *Endpoint
	}{{c, cep}, {s, sep}} {
		for _, tok := range tokensOf(side.conn) {
			// Short header, a DCID of nobody's, the token at the end.
			d := append(append([]byte{0x40}, make([]byte, 29)...), tok[:]...)
			side.ep.mu.Lock()
			r := side.ep.ep.Handle(time.Now(), addrOf(t, side.ep.LocalAddr()), d, nil)
			side.ep.mu.Unlock()
			if r.Action != endpointcore.Deliver || r.Conn != side.conn {
				t.Fatalf("token %x: %v to %p, want delivery to %p", tok, r.Action, r.Conn, side.conn)
			}
		}
	}
	c.Close(0, "")
	<-s.doneCh
	<-c.doneCh
	for _, e := range []*Endpoint{cep, sep} {
		e.mu.Lock()
		_, _, n := e.ep.Len()
		e.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d tokens left in the index of a closed endpoint", n)
		}
	}
}

func tokensOf(c *Conn) []core.ResetToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.AppendResetTokens(nil)
}
