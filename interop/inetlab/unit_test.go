//go:build linux

package inetlab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
)

func TestSpecValidate(t *testing.T) {
	ok := []Spec{
		{},
		{Relays: []RelaySpec{{Name: ProdRelays[0], Delay: time.Millisecond}}, Homes: []HomeSpec{{Name: "a"}}, Public: []string{"pub"}},
		{Relays: []RelaySpec{}, PlainRelay: true},
	}
	for _, s := range ok {
		if err := s.validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := []Spec{
		{Relays: []RelaySpec{{Name: "relay.example.org"}}},
		{Relays: []RelaySpec{{Name: ProdRelays[0]}, {Name: ProdRelays[0]}}},
		{Relays: []RelaySpec{{Name: ProdRelays[0], Delay: -time.Millisecond}}},
		{Relays: []RelaySpec{{Name: ProdRelays[0], Delay: time.Hour}}},
		{Homes: []HomeSpec{{Name: "a"}}, Public: []string{"a"}},
		{Public: []string{"Pub"}},
		{Public: []string{"abcdefghijklm"}},
		{Homes: make([]HomeSpec, maxHomes+1)},
	}
	for _, s := range bad {
		if err := s.validate(); !errors.Is(err, ErrBadSpec) {
			t.Errorf("%+v: got %v, want ErrBadSpec", s, err)
		}
	}
}

func TestRelayURL(t *testing.T) {
	if got := RelayURL(ProdRelays[0]); got != "https://use1-1.relay.n0.iroh.link./" {
		t.Fatalf("RelayURL = %q", got)
	}
	if got := RelayURL(ProdRelays[0] + "."); got != "https://use1-1.relay.n0.iroh.link./" {
		t.Fatalf("RelayURL with a dot = %q", got)
	}
}

// frontOnLoopback is a DNS front whose one zone is served by a real
// lookup server on loopback (the test process's own namespace).
func frontOnLoopback(t *testing.T) (*DNSFront, *lookup.Server) {
	t.Helper()
	ls := lookup.NewServer(lookup.ServerOptions{Origin: ProdOrigin + ".", PutBurst: -1})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go ls.ServeDNS(pc)
	var d net.Dialer
	f := newDNSFront(d.DialContext)
	f.AddHost(ProdRelays[0], netip.MustParseAddr("20.1.0.1"))
	f.AddHost(ProdOrigin, netip.MustParseAddr("20.0.0.53"))
	f.AddZone(ProdOrigin, pc.LocalAddr().(*net.UDPAddr).AddrPort())
	return f, ls
}

func ask(t *testing.T, f *DNSFront, name string, qtype uint16) *lookup.Message {
	t.Helper()
	q := lookup.Message{ID: 7, Questions: []lookup.Question{{Name: name, Type: qtype, Class: lookup.ClassIN}}}
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := lookup.ParseMessage(f.respond(context.Background(), b, false))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != 7 || resp.Flags&lookup.FlagResponse == 0 {
		t.Fatalf("answer %+v", resp)
	}
	return resp
}

func TestDNSFrontAnswers(t *testing.T) {
	f, ls := frontOnLoopback(t)
	a := ask(t, f, "USE1-1.relay.n0.iroh.link.", TypeA)
	if a.Rcode() != lookup.RcodeSuccess || len(a.Answers) != 1 || netip.AddrFrom4([4]byte(a.Answers[0].Data)).String() != "20.1.0.1" {
		t.Fatalf("A: %+v", a)
	}
	if aaaa := ask(t, f, ProdRelays[0], TypeAAAA); aaaa.Rcode() != lookup.RcodeSuccess || len(aaaa.Answers) != 0 {
		t.Fatalf("AAAA of an IPv4-only name: %+v", aaaa)
	}
	if nx := ask(t, f, "example.com", TypeA); nx.Rcode() != lookup.RcodeNXDomain {
		t.Fatalf("unknown name: %+v", nx)
	}

	key, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	name := lookup.DNSName(key.Public(), ProdOrigin)
	if nx := ask(t, f, name, lookup.TypeTXT); nx.Rcode() != lookup.RcodeNXDomain {
		t.Fatalf("unpublished id: %+v", nx)
	}
	p, err := lookup.SignEndpointInfo(key, lookup.EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{RelayURL(ProdRelays[0])}}}, lookup.Now(), 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := ls.Store().Put(p); err != nil {
		t.Fatal(err)
	}
	if txt := ask(t, f, name, lookup.TypeTXT); txt.Rcode() != lookup.RcodeSuccess || len(txt.Answers) != 1 {
		t.Fatalf("forwarded TXT: %+v", txt)
	}

	f.Override(name, func(q *lookup.Message, tcp bool) []byte {
		b, _ := (&lookup.Message{ID: q.ID, Flags: lookup.FlagResponse | lookup.RcodeRefused, Questions: q.Questions}).Pack()
		return b
	})
	if r := ask(t, f, name, lookup.TypeTXT); r.Rcode() != lookup.RcodeRefused {
		t.Fatalf("override: %+v", r)
	}
	f.Override(name, nil)
	if got, want := f.Count(ProdOrigin), 3; got != want {
		t.Fatalf("Count(%s) = %d, want %d: %v", ProdOrigin, got, want, f.Queries())
	}
	if got := f.Count(""); got != 6 {
		t.Fatalf("Count() = %d, want 6", got)
	}
}

func TestDNSFrontUpstreamDown(t *testing.T) {
	var d net.Dialer
	f := newDNSFront(d.DialContext)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr).AddrPort()
	l.Close() // nothing listens there now
	f.AddZone(ProdOrigin, addr)
	q, _ := (&lookup.Message{ID: 1, Questions: []lookup.Question{{Name: "_iroh.x." + ProdOrigin, Type: lookup.TypeTXT, Class: lookup.ClassIN}}}).Pack()
	resp, err := lookup.ParseMessage(f.respond(context.Background(), q, true))
	if err != nil || resp.Rcode() != lookup.RcodeServFail {
		t.Fatalf("dead upstream over TCP: %+v, %v", resp, err)
	}
}

func FuzzDNSFrontRespond(f *testing.F) {
	q, _ := (&lookup.Message{ID: 9, Questions: []lookup.Question{{Name: ProdRelays[0], Type: TypeA, Class: lookup.ClassIN}}}).Pack()
	f.Add(q)
	two, _ := (&lookup.Message{ID: 9, Questions: []lookup.Question{{Name: "a", Type: TypeA}, {Name: "b", Type: TypeA}}}).Pack()
	f.Add(two)
	f.Add([]byte{0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	front := newDNSFront(func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("no upstream") })
	front.AddHost(ProdRelays[0], netip.MustParseAddr("20.1.0.1"))
	front.AddZone(ProdOrigin, netip.MustParseAddrPort("127.0.0.1:9"))
	f.Fuzz(func(t *testing.T, query []byte) {
		resp := front.respond(context.Background(), query, false)
		if resp == nil {
			return
		}
		m, err := lookup.ParseMessage(resp)
		if err != nil {
			t.Fatalf("unparsable answer to %x: %v", query, err)
		}
		if len(query) < 2 || m.ID != uint16(query[0])<<8|uint16(query[1]) {
			t.Fatalf("answer id %d to %x", m.ID, query)
		}
	})
}

const nftListing = `{"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
{"table": {"family": "inet", "name": "inetlab", "handle": 1}},
{"chain": {"family": "inet", "table": "inetlab", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}},
{"rule": {"family": "inet", "table": "inetlab", "chain": "input", "handle": 2, "comment": "https", "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth0"}}, {"counter": {"packets": 3, "bytes": 180}}]}},
{"rule": {"family": "inet", "table": "inetlab", "chain": "input", "handle": 3, "comment": "qad", "expr": [{"counter": {"packets": 0, "bytes": 0}}]}}]}`

func TestParseCounters(t *testing.T) {
	c, err := parseCounters([]byte(nftListing))
	if err != nil {
		t.Fatal(err)
	}
	if c["https"] != 3 || c["qad"] != 0 || c.Total() != 3 || c.String() != "https=3" {
		t.Fatalf("counters %v", c)
	}
	if _, err := parseCounters([]byte("table inet inetlab {")); err == nil {
		t.Fatal("non-JSON listing parsed")
	}
}

func FuzzParseCounters(f *testing.F) {
	f.Add([]byte(nftListing))
	f.Add([]byte(`{"nftables":[{"rule":{"comment":"x","expr":[{"counter":null}]}}]}`))
	f.Add([]byte(`{"nftables":[{"rule":{"comment":"x","expr":[1,"a",{"counter":{"packets":-1}}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCounters(b)
		if err == nil && c == nil {
			t.Fatal("nil counters without an error")
		}
	})
}

func TestDelayLineOrderAndDelay(t *testing.T) {
	const d = 30 * time.Millisecond
	got := make(chan time.Time, 3)
	var order []byte
	q := newDelayLine(d, func(b []byte) error {
		order = append(order, b...)
		got <- time.Now()
		return nil
	})
	start := time.Now()
	q.put([]byte{1})
	q.put([]byte{2})
	q.tryPut([]byte{3})
	for range 3 {
		if at := <-got; at.Sub(start) < d {
			t.Fatalf("delivered after %v, want at least %v", at.Sub(start), d)
		}
	}
	q.close()
	if string(order) != "\x01\x02\x03" {
		t.Fatalf("order %v", order)
	}
}
