package lookup

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// soak reports whether the long versions run (make soak).
func soak() bool { return os.Getenv("IROHSPOKE_SOAK") == "1" }

// TestSoakHTTPSlowClients: 200 idle keep-alive connections and 200 PUTs
// whose body never comes (2 per client address, within the per-client
// cap) are all closed by the server; 40 connections from one address get
// only the per-client share. The long version uses the real timeouts and
// looks after 40 s; the short one shortens them.
func TestSoakHTTPSlowClients(t *testing.T) {
	s := NewServer(ServerOptions{})
	wait := 40 * time.Second
	if !soak() {
		s.timeouts.idle, s.timeouts.read = 200*time.Millisecond, 200*time.Millisecond
		wait = time.Second
	}
	addr := startPkarr(t, s)
	key := newKey(t).Public().ZBase32()
	var idle, slow []net.Conn
	for i := range 200 {
		src := fmt.Sprintf("127.0.%d.%d", 10+i/250, 1+i%250)
		c := dialFrom(t, src, addr)
		healthz(t, c)
		idle = append(idle, c)
		c = dialFrom(t, src, addr)
		slowPut(c, key)
		slow = append(slow, c)
	}
	admitted := admittedOf(t, 40)
	time.Sleep(wait)
	if !soak() { // a loaded machine may close them a little late
		for _, c := range append(idle, slow...) {
			closedWithin(c, 5*time.Second)
		}
	}
	openIdle, openSlow := countOpen(idle), countOpen(slow)
	t.Logf("after %v: idle keep-alive open %d/200, slow PUT open %d/200; one address got %d of 40 connections",
		wait, openIdle, openSlow, admitted)
	if openIdle+openSlow != 0 || admitted != DefaultMaxHTTPConnsPerClient {
		t.Fatal("connections held past the timeouts or over the per-client cap")
	}
}

// admittedOf opens n connections from one address to a fresh server and
// counts those that serve a request.
func admittedOf(t *testing.T, n int) (admitted int) {
	addr := startPkarr(t, NewServer(ServerOptions{}))
	for range n {
		if tryHealthz(dialFrom(t, "127.0.20.1", addr)) {
			admitted++
		}
	}
	return admitted
}

func countOpen(conns []net.Conn) (open int) {
	for _, c := range conns {
		if stillOpen(c) {
			open++
		}
	}
	return open
}

// TestSoakDNSAmplification: 1000 TXT and ANY queries with EDNS 1232 from
// one client get back at most about as many bytes as they carried (before
// rate limiting and RFC 8482: 10.4x). The short version floods at once,
// the long one sends one query a millisecond.
func TestSoakDNSAmplification(t *testing.T) {
	s, id := bigPacketServer(t, ServerLimits{})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeDNS(pc)
	defer pc.Close()
	const n = 1000
	pace := time.Duration(0)
	if soak() {
		pace = time.Millisecond
	}
	for i, qtype := range []uint16{TypeTXT, TypeANY} {
		q := ednsQuery(t, id, qtype)
		start := time.Now()
		full, slips, in, out := paced(t, fmt.Sprintf("127.0.%d.1", 30+i), pc.LocalAddr().String(), q, n, pace)
		ratio := float64(out) / float64(in)
		t.Logf("type %d: %d queries in %v: %d full answers, %d truncated; %d B in, %d B out = %.2fx",
			qtype, n, time.Since(start).Round(time.Millisecond), full, slips, in, out, ratio)
		if ratio > 2 {
			t.Fatalf("amplification %.1fx", ratio)
		}
	}
}

// paced sends n queries from src, pace apart, while counting the answers.
func paced(t *testing.T, src, dst string, q []byte, n int, pace time.Duration) (full, slips, in, out int) {
	t.Helper()
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, net.UDPAddrFromAddrPort(netipAddrPort(t, dst)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			out += k
			if m, err := ParseMessage(buf[:k]); err == nil && m.Flags&FlagTruncated != 0 {
				slips++
			} else {
				full++
			}
		}
	}()
	for range n {
		c.Write(q)
		in += len(q)
		if pace > 0 {
			time.Sleep(pace)
		}
	}
	<-done
	return full, slips, in, out
}

// TestSoakDNSTCPHog: one client opening 300 TCP connections gets its
// share; another client is still served (before: 256 and shut out).
func TestSoakDNSTCPHog(t *testing.T) {
	s := NewServer(ServerOptions{Origin: testOrigin})
	addr := startDNSTCP(t, s)
	q := txtQuery(t, 1, newKey(t).Public())
	answered := 0
	for range 300 {
		if tcpAsk(dialFrom(t, "127.0.40.1", addr), q) {
			answered++
		}
	}
	other := tcpAsk(dialFrom(t, "127.0.40.2", addr), q)
	t.Logf("one client: %d/300 TCP connections answered; another client answered: %v", answered, other)
	if answered != DefaultMaxDNSTCPConnsPerClient || !other {
		t.Fatal("one client held more than its share")
	}
}

// TestSoakPutLimiterCycling: rounds over 70,000 client addresses (more
// than the limiter remembers) at one instant: nobody gets more than their
// burst in total (before: the table was cleared at 65,536, and every
// round started afresh). Three rounds, ten in the long version.
func TestSoakPutLimiterCycling(t *testing.T) {
	s := NewServer(ServerOptions{})
	now := time.Unix(1e9, 0)
	s.now = func() time.Time { return now }
	id := newKey(t).Public()
	const clients = 70000
	rounds := 3
	if soak() {
		rounds = 10
	}
	allowed := 0
	for range rounds {
		for i := range uint32(clients) {
			if s.allowPut(v4(i), id) {
				allowed++
			}
		}
	}
	t.Logf("%d PUTs from %d addresses at one instant: %d allowed (burst %d each)", rounds*clients, clients, allowed, DefaultPutBurst)
	if allowed > clients*DefaultPutBurst {
		t.Fatal("cycling addresses beat the limit")
	}
}
