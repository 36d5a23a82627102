package lookup

import (
	"bytes"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/identity"
)

func FuzzParseMessage(f *testing.F) {
	f.Add(mustHex(f, vecDNSHex))
	f.Add([]byte{0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 16, 0, 1})
	f.Add([]byte{0, 0, 0x80, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 16, 0, 1, 0xc0, 12, 0, 16, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		// Whatever parses must re-encode, and the re-encoding must parse
		// to the same message.
		out, err := m.Pack()
		if err != nil {
			return // e.g. a label that is valid on the wire but empty after splitting
		}
		m2, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if len(m2.Answers) != len(m.Answers) || len(m2.Questions) != len(m.Questions) {
			t.Fatal("section sizes changed")
		}
		for i := range m.Answers {
			if !equalName(m.Answers[i].Name, m2.Answers[i].Name) || !bytes.Equal(m.Answers[i].Data, m2.Answers[i].Data) {
				t.Fatalf("answer %d changed", i)
			}
		}
	})
}

func FuzzParseSignedPacket(f *testing.F) {
	key := k1(f)
	p, err := SignEndpointInfo(key, EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{vecRelay}}}, vecTimestamp, DefaultTTL)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(p.Bytes())
	f.Add(p.Bytes()[:104])
	f.Fuzz(func(t *testing.T, b []byte) {
		sp, err := ParseSignedPacket(b)
		if err != nil {
			return
		}
		if !bytes.Equal(sp.Bytes(), b) {
			t.Fatal("verified packet does not re-encode to its input")
		}
		if _, err := sp.EndpointInfo(); err != nil {
			t.Fatalf("verified packet has unreadable records: %v", err)
		}
	})
}

func FuzzParseTXTAttrs(f *testing.F) {
	f.Add("relay=https://use1-1.relay.n0.iroh.link./\naddr=1.2.3.4:5\nuser-data=x=y")
	f.Add("addr=[::1]:443\nnokey\n=\nrelay==")
	id := identity.EndpointID{}
	f.Fuzz(func(t *testing.T, s string) {
		info := ParseTXTAttrs(id, strings.Split(s, "\n"))
		if len(info.UserData) > MaxUserDataLen {
			t.Fatal("over-long user data accepted")
		}
		// What we parsed we can publish, and it parses back the same.
		attrs, err := info.TXTAttrs()
		if err != nil {
			t.Fatalf("parsed info does not encode: %v", err)
		}
		back := ParseTXTAttrs(id, attrs)
		if len(back.Addrs) != len(info.Addrs) || len(back.Relays) != len(info.Relays) {
			t.Fatalf("round trip changed %+v into %+v", info, back)
		}
	})
}

func FuzzHandleDNS(f *testing.F) {
	s := NewServer(ServerOptions{Origin: testOrigin})
	key := k1(f)
	p, err := SignEndpointInfo(key, EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{vecRelay}}}, 1, DefaultTTL)
	if err != nil {
		f.Fatal(err)
	}
	s.Store().Put(p)
	q := Message{ID: 1, Questions: []Question{{Name: DNSName(key.Public(), testOrigin), Type: TypeTXT, Class: ClassIN}},
		Additionals: []Record{{Type: TypeOPT, Class: 1232}}}
	b, err := q.Pack()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 1})
	anyQuery, err := (&Message{ID: 2, Questions: []Question{{Name: DNSName(key.Public(), testOrigin), Type: TypeANY, Class: ClassIN}}}).Pack()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(anyQuery)
	f.Fuzz(func(t *testing.T, query []byte) {
		// A rate-limited (slip) answer is a bare truncated one, about the
		// query's size at most.
		if slip := s.respond(query, modeSlip); slip != nil {
			m, err := ParseMessage(slip)
			if err != nil {
				t.Fatalf("unparsable slip answer: %v", err)
			}
			if len(m.Answers)+len(m.Additionals) != 0 || len(slip) > len(query)+maxNameWireLen {
				t.Fatalf("%d-byte slip answer with %d answers to a %d-byte query", len(slip), len(m.Answers), len(query))
			}
		}
		resp := s.HandleDNS(query)
		if resp == nil {
			return
		}
		if len(resp) > ednsSize {
			t.Fatalf("%d-byte UDP answer", len(resp))
		}
		if _, err := ParseMessage(resp); err != nil {
			t.Fatalf("server produced an unparsable answer: %v", err)
		}
	})
}
