package lookup

import (
	"strings"
	"testing"
)

func FuzzParseTXTAnswer(f *testing.F) {
	const name = "_iroh.x.dns.test"
	q, err := newTXTQuery(7, name)
	if err != nil {
		f.Fatal(err)
	}
	ans := Message{ID: 7, Flags: FlagResponse, Questions: []Question{{Name: name, Type: TypeTXT, Class: ClassIN}},
		Answers: []Record{
			{Name: name, Type: 5, Class: ClassIN, TTL: 30, Data: []byte{1, 'y', 0}}, // CNAME y.
			{Name: "y", Type: TypeTXT, Class: ClassIN, TTL: 30, Data: TXTData("relay=http://a/")},
			{Name: "other", Type: TypeTXT, Class: ClassIN, TTL: 30, Data: TXTData("addr=1.2.3.4:5")},
		}}
	b, err := ans.Pack()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(q)
	f.Add(b[:len(b)-3])
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, err := parseTXTAnswer(msg, 7, name)
		if err != nil {
			if len(got.records) != 0 {
				t.Fatal("records returned with an error")
			}
			return
		}
		// Whatever is accepted answers our question in a parsable message.
		m, err := ParseMessage(msg)
		if err == nil && (len(m.Questions) != 1 || !equalName(m.Questions[0].Name, name)) {
			t.Fatalf("accepted an answer to %+v", m.Questions)
		}
	})
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add("# comment\nsearch example.org\nnameserver 127.0.0.53\noptions edns0 trust-ad\n")
	f.Add("nameserver fe80::1%eth0\nnameserver ::ffff:10.0.0.1\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n")
	f.Add("nameserver\nnameserver 300.1.1.1\n;nameserver 9.9.9.9")
	f.Fuzz(func(t *testing.T, conf string) {
		servers := parseResolvConf([]byte(conf), dnsPort)
		if len(servers) > maxNameservers {
			t.Fatalf("%d nameservers", len(servers))
		}
		for _, s := range servers {
			if !s.IsValid() || s.Port() != dnsPort || s.Addr().Is4In6() {
				t.Fatalf("bad nameserver %v", s)
			}
		}
	})
}

func FuzzParseNameserver(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4:5353", "[::1]:53", "::1", "[::1]", "dns.example", "dns.example.:53", "a:b:c", "host:0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ParseNameserver(s)
		if err != nil {
			return
		}
		if ns.Port == 0 || ns.Host == "" {
			t.Fatalf("%q parsed to %+v", s, ns)
		}
		// The canonical form parses back to the same nameserver.
		back, err := ParseNameserver(ns.String())
		if err != nil || back != ns {
			t.Fatalf("%q -> %s -> %+v, %v", s, ns, back, err)
		}
	})
}

func FuzzCheckOrigin(f *testing.F) {
	for _, s := range []string{"dns.iroh.link.", "a", strings.Repeat("a", 64), strings.Repeat("abc.", 49), "x..y", "bad name.", "xn--bcher-kva.example"} {
		f.Add(s)
	}
	id := k1(f).Public()
	f.Fuzz(func(t *testing.T, origin string) {
		if CheckOrigin(origin) != nil {
			return
		}
		// A valid origin leaves room for iroh's names.
		if _, err := newTXTQuery(1, DNSName(id, origin)); err != nil {
			t.Fatalf("origin %q accepted but its iroh name does not encode: %v", origin, err)
		}
		if _, err := (&Message{Questions: []Question{{Name: DNSName(id, origin), Type: TypeTXT, Class: ClassIN}}}).Pack(); err != nil {
			t.Fatalf("origin %q accepted but our codec refuses its iroh name: %v", origin, err)
		}
	})
}
