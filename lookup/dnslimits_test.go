package lookup

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// tcpAsk sends one framed query on c and reports whether it was answered.
func tcpAsk(c net.Conn, q []byte) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(frame(q)); err != nil {
		return false
	}
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return false
	}
	_, err := io.ReadFull(c, make([]byte, binary.BigEndian.Uint16(hdr[:])))
	return err == nil
}

func startDNSTCP(t *testing.T, s *Server) string { return serveTCP(t, s.ServeDNSTCP) }

// TestDNSTCPCaps: one client cannot take every TCP slot; with all slots
// taken, a newcomer evicts the longest idle connection.
func TestDNSTCPCaps(t *testing.T) {
	s := NewServer(ServerOptions{Origin: testOrigin, Limits: ServerLimits{MaxDNSTCPConns: 4, MaxDNSTCPConnsPerClient: 2}})
	addr := startDNSTCP(t, s)
	q := txtQuery(t, 1, newKey(t).Public())
	// Each answer is followed by the server marking the connection idle
	// before the next query, so the idle order is the order of asking.
	ask := func(c net.Conn) bool {
		ok := tcpAsk(c, q)
		waitFor(t, func() bool { return s.dnsConns.busy() == 0 })
		return ok
	}
	answered := 0
	var hog []net.Conn
	for range 5 {
		c := dialFrom(t, "127.0.3.1", addr)
		hog = append(hog, c)
		if ask(c) {
			answered++
		}
	}
	if answered != 2 {
		t.Fatalf("one client got %d TCP connections answered, want 2", answered)
	}
	other := dialFrom(t, "127.0.3.2", addr)
	if !ask(other) {
		t.Fatal("second client shut out")
	}
	third := dialFrom(t, "127.0.3.3", addr)
	if !ask(third) {
		t.Fatal("third client shut out")
	}
	late := dialFrom(t, "127.0.3.4", addr) // the table is full: hog[0] idled longest
	if !ask(late) {
		t.Fatal("newcomer to a full table of idle connections refused")
	}
	if !closedWithin(hog[0], 5*time.Second) || !stillOpen(hog[1]) || !stillOpen(other) {
		t.Fatal("eviction did not pick the longest idle connection")
	}
}

// TestDNSResponseRateLimit: past its burst a client prefix gets every
// second answer as a bare truncated one and nothing for the rest; another
// prefix is unaffected.
func TestDNSResponseRateLimit(t *testing.T) {
	s, id := bigPacketServer(t, ServerLimits{DNSResponseRate: 1, DNSResponseBurst: 4})
	now := time.Unix(1e9, 0)
	s.now = func() time.Time { return now }
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeDNS(pc)
	defer pc.Close()
	q := ednsQuery(t, id, TypeTXT)
	full, slips, in, out := flood(t, "127.0.4.1", pc.LocalAddr().String(), q, 10, 7)
	if full != 4 || slips != 3 {
		t.Fatalf("10 queries: %d full answers, %d truncated, want 4 and 3", full, slips)
	}
	t.Logf("10 queries from one client: %d B in, %d B out", in, out)
	if full, _, _, _ := flood(t, "127.0.5.1", pc.LocalAddr().String(), q, 1, 1); full != 1 {
		t.Fatal("another /24 was limited too")
	}
}

// flood sends n queries from src and counts full and truncated answers:
// it waits up to 5 s for the expected number, then briefly for extras.
func flood(t *testing.T, src, dst string, q []byte, n, expected int) (full, slips, in, out int) {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, net.UDPAddrFromAddrPort(netipAddrPort(t, dst)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range n {
		if _, err := c.Write(q); err != nil {
			t.Fatal(err)
		}
		in += len(q)
	}
	buf := make([]byte, 65535)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if full+slips == expected {
			deadline = time.Now().Add(100 * time.Millisecond)
		}
		c.SetReadDeadline(deadline)
		k, err := c.Read(buf)
		if err != nil {
			return
		}
		out += k
		m, err := ParseMessage(buf[:k])
		if err != nil {
			t.Fatal(err)
		}
		if m.Flags&FlagTruncated != 0 {
			if k > len(q) {
				t.Fatalf("%d-byte truncated answer to a %d-byte query", k, len(q))
			}
			slips++
		} else {
			full++
		}
	}
}

// TestDNSAnyIsMinimal: QTYPE=ANY gets one HINFO "RFC8482" (RFC 8482),
// not the whole record set.
func TestDNSAnyIsMinimal(t *testing.T) {
	s, id := bigPacketServer(t, ServerLimits{})
	q := ednsQuery(t, id, TypeANY)
	resp := s.HandleDNS(q)
	m, err := ParseMessage(resp)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rcode() != RcodeSuccess || len(m.Answers) != 1 || m.Answers[0].Type != typeHINFO {
		t.Fatalf("ANY answer: rcode %d, %d answers", m.Rcode(), len(m.Answers))
	}
	if strs, _ := TXTStrings(m.Answers[0].Data); len(strs) != 2 || string(strs[0]) != "RFC8482" {
		t.Fatalf("HINFO %q", m.Answers[0].Data)
	}
	if len(resp) > 2*len(q) {
		t.Fatalf("%d-byte ANY answer to a %d-byte query", len(resp), len(q))
	}
}

// TestServerRefusesBadOrigin: an over-long origin is a clear error from
// Validate and from the DNS servers, not a server that refuses everything.
func TestServerRefusesBadOrigin(t *testing.T) {
	origin := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".example."
	opts := ServerOptions{Origin: origin}
	if err := opts.Validate(); err == nil || !strings.Contains(err.Error(), "octets") {
		t.Fatalf("Validate: %v", err)
	}
	s := NewServer(opts)
	if err := s.ServeDNS(nil); !errors.Is(err, ErrBadOrigin) {
		t.Fatalf("ServeDNS with an over-long origin: %v", err)
	}
	if err := s.ServeDNSTCP(nil); !errors.Is(err, ErrBadOrigin) {
		t.Fatalf("ServeDNSTCP with an over-long origin: %v", err)
	}
}
