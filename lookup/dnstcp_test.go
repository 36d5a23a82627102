package lookup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
)

// bigInfo has too many addresses for a 512-byte UDP answer.
func bigInfo() EndpointInfo {
	info := EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{vecRelay}}}
	for i := range 20 {
		info.Addrs = append(info.Addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), 4433))
	}
	return info
}

// txtQuery is a TXT query for id as iroh sends it: RD set, no EDNS.
func txtQuery(t testing.TB, msgID uint16, id identity.EndpointID) []byte {
	t.Helper()
	q := Message{ID: msgID, Flags: FlagRecursionDesired,
		Questions: []Question{{Name: DNSName(id, testOrigin), Type: TypeTXT, Class: ClassIN}}}
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frame(b []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...) }

func readFrame(t *testing.T, r io.Reader) *Message {
	t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatalf("reading answer length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	m, err := ParseMessage(b)
	if err != nil {
		t.Fatalf("answer: %v", err)
	}
	return m
}

// TestServeDNSTCP: an answer that UDP truncates for a client without EDNS
// comes whole over TCP; pipelined queries are answered in order; an empty
// message ends the connection; closing the listener closes idle clients.
func TestServeDNSTCP(t *testing.T) {
	s := NewServer(ServerOptions{Origin: testOrigin})
	key := k1(t)
	info := bigInfo()
	p, err := SignEndpointInfo(key, info, 1, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store().Put(p); err != nil {
		t.Fatal(err)
	}
	udp, err := ParseMessage(s.HandleDNS(txtQuery(t, 7, key.Public())))
	if err != nil || udp.Flags&FlagTruncated == 0 || len(udp.Answers) != 0 {
		t.Fatalf("UDP answer %+v (%v), want empty and truncated", udp, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeDNSTCP(l) }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	other, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pipelined := append(frame(txtQuery(t, 7, key.Public())), frame(txtQuery(t, 8, other.Public()))...)
	if _, err := c.Write(pipelined); err != nil {
		t.Fatal(err)
	}
	m := readFrame(t, c)
	if m.ID != 7 || m.Rcode() != RcodeSuccess || m.Flags&FlagTruncated != 0 || len(m.Answers) != 1+len(info.Addrs) {
		t.Fatalf("TCP answer: id %d rcode %d flags %#x, %d answers", m.ID, m.Rcode(), m.Flags, len(m.Answers))
	}
	var strs []string
	for _, rr := range m.Answers {
		ss, err := TXTStrings(rr.Data)
		if err != nil {
			t.Fatal(err)
		}
		strs = append(strs, string(bytes.Join(ss, nil)))
	}
	if got := ParseTXTAttrs(key.Public(), strs); len(got.Addrs) != len(info.Addrs) || got.Relays[0] != vecRelay {
		t.Fatalf("TCP answer decodes to %+v", got)
	}
	if m := readFrame(t, c); m.ID != 8 || m.Rcode() != RcodeNXDomain {
		t.Fatalf("second answer: id %d rcode %d", m.ID, m.Rcode())
	}
	if _, err := c.Write([]byte{0, 0}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("after an empty message: read %d, %v; want EOF", n, err)
	}

	idle, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// The server has the idle client once it answers a query on it.
	idle.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Write(frame(txtQuery(t, 9, other.Public()))); err != nil {
		t.Fatal(err)
	}
	readFrame(t, idle)
	l.Close()
	if err := <-done; err != nil {
		t.Fatalf("ServeDNSTCP: %v", err)
	}
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle client after shutdown: %v, want EOF", err)
	}
}

// stream feeds fuzz input to serveDNSStream and collects its output.
type stream struct {
	io.Reader
	bytes.Buffer
}

func (s *stream) Read(b []byte) (int, error)  { return s.Reader.Read(b) }
func (s *stream) SetDeadline(time.Time) error { return nil }
func (s *stream) Write(b []byte) (int, error) { return s.Buffer.Write(b) }

func FuzzDNSTCPStream(f *testing.F) {
	s := NewServer(ServerOptions{Origin: testOrigin})
	key := k1(f)
	p, err := SignEndpointInfo(key, bigInfo(), 1, DefaultTTL)
	if err != nil {
		f.Fatal(err)
	}
	s.Store().Put(p)
	q := txtQuery(f, 1, key.Public())
	f.Add(frame(q))
	f.Add(append(frame(q), frame(q)...))
	f.Add(append(frame(q), 0, 0))
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	f.Add(frame([]byte{1, 2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, in []byte) {
		st := &stream{Reader: bytes.NewReader(in)}
		s.serveDNSStream(st, func(bool) {})
		out := st.Bytes()
		for len(out) > 0 {
			if len(out) < 2 {
				t.Fatalf("dangling %d bytes", len(out))
			}
			n := int(binary.BigEndian.Uint16(out))
			if n == 0 || len(out) < 2+n {
				t.Fatalf("frame of %d bytes with %d left", n, len(out)-2)
			}
			if _, err := ParseMessage(out[2 : 2+n]); err != nil {
				t.Fatalf("server produced an unparsable answer: %v", err)
			}
			out = out[2+n:]
		}
	})
}

// bigPacketServer stores a packet for a new key with as many addresses as
// fit (a ~1000-byte DNS answer) and returns the server and the key's id.
func bigPacketServer(t testing.TB, limits ServerLimits) (*Server, identity.EndpointID) {
	t.Helper()
	s := NewServer(ServerOptions{Origin: testOrigin, Limits: limits})
	key := newKey(t)
	info := EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{vecRelay}}}
	for i := range 26 {
		info.Addrs = append(info.Addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), 4433))
	}
	p, err := SignEndpointInfo(key, info, 1, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store().Put(p); err != nil {
		t.Fatal(err)
	}
	return s, key.Public()
}

// ednsQuery asks for id's records with the 1232-byte EDNS size.
func ednsQuery(t testing.TB, id identity.EndpointID, qtype uint16) []byte {
	t.Helper()
	q := Message{ID: 1, Questions: []Question{{Name: DNSName(id, testOrigin), Type: qtype, Class: ClassIN}},
		Additionals: []Record{{Type: TypeOPT, Class: ednsSize}}}
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func netipAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}
