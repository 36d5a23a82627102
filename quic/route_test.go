package quic

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
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

func TestRateLimiter(t *testing.T) {
	r := rateLimiter{limit: 3}
	now := time.Now()
	for i := 0; i < 3; i++ {
		if !r.allow(now) {
			t.Fatal("denied within the limit")
		}
	}
	if r.allow(now) {
		t.Fatal("allowed beyond the limit")
	}
	if !r.allow(now.Add(time.Second)) {
		t.Fatal("no new allowance after a second")
	}
}

// FuzzRoute checks the demultiplexer on arbitrary datagrams: it never
// panics, resets are shorter than their triggers, and Version Negotiation
// replies parse back.
func FuzzRoute(f *testing.F) {
	f.Add([]byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9})
	f.Add(append([]byte{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0}, make([]byte, 1200)...))
	f.Add(append([]byte{0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0xd0}, make([]byte, 1200)...))
	f.Add([]byte{0xe0, 0, 0, 0, 1, 0, 0, 0x41})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		class, h := classify(b)
		switch class {
		case classShort:
			if len(h.DCID) != core.LocalCIDLen {
				t.Fatalf("short header DCID %d bytes", len(h.DCID))
			}
			var key core.ResetKey
			pkt, ok := appendStatelessReset(nil, len(b), key.Token(h.DCID), bytes.NewReader(make([]byte, 64)))
			if ok && (len(pkt) >= len(b) || len(pkt) < minResetSize || pkt[0]&0xc0 != 0x40) {
				t.Fatalf("reset of %d bytes for a %d-byte trigger", len(pkt), len(b))
			}
		case classInitial:
			_ = acceptableInitial(len(b), &h)
		case classVersionNeg:
			pkt, ok := appendVersionNegotiation(nil, &h, 0x3f)
			if !ok {
				return
			}
			vh, err := wire.ParseHeader(pkt, core.LocalCIDLen)
			if err != nil || vh.Type != wire.PacketVersionNegotiation || len(pkt) > len(b) {
				t.Fatalf("bad VN %x: %v", pkt, err)
			}
		}
	})
}
