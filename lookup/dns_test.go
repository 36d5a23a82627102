package lookup

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	m := &Message{
		ID:        0x1234,
		Flags:     FlagResponse | FlagAuthoritative | FlagRecursionDesired,
		Questions: []Question{{Name: "_iroh.abc.example.org", Type: TypeTXT, Class: ClassIN}},
		Answers: []Record{
			{Name: "_iroh.abc.example.org", Type: TypeTXT, Class: ClassIN, TTL: 30, Data: TXTData("relay=x")},
			{Name: "_iroh.ABC.example.org", Type: TypeTXT, Class: ClassIN, TTL: 30, Data: TXTData("addr=1.2.3.4:5")},
		},
		Additionals: []Record{{Name: "", Type: TypeOPT, Class: 1232}},
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	// Both answer names compress to a pointer to the question's name.
	if n := strings.Count(string(b), "example"); n != 1 {
		t.Fatalf("name written %d times, want once (compression)", n)
	}
	got, err := ParseMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	// Compression matches case-insensitively, so the second answer comes
	// back with the first spelling; everything else is unchanged.
	m.Answers[1].Name = "_iroh.abc.example.org"
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, m)
	}
	b2, err := got.Pack()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("repack differs: %v", err)
	}
}

func TestPackRejectsBadNames(t *testing.T) {
	for _, name := range []string{"a..b", strings.Repeat("x", 64) + ".org", strings.Repeat("abcdefghi.", 26) + "org", ".a"} {
		m := &Message{Questions: []Question{{Name: name, Type: TypeTXT, Class: ClassIN}}}
		if _, err := m.Pack(); !errors.Is(err, ErrBadName) {
			t.Errorf("%q: err = %v", name, err)
		}
	}
}

func TestParseMessageRejects(t *testing.T) {
	hdr := func(qd, an uint16) []byte {
		return []byte{0, 1, 0x81, 0x00, byte(qd >> 8), byte(qd), byte(an >> 8), byte(an), 0, 0, 0, 0}
	}
	q := func(name ...byte) []byte { return append(name, 0, 16, 0, 1) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := map[string][]byte{
		"short header":      {0, 1, 2},
		"Z flag":            {0, 0, 0x80, 0x40, 0, 0, 0, 0, 0, 0, 0, 0},
		"counts too large":  hdr(0, 200),
		"truncated name":    cat(hdr(1, 0), []byte{5, 'a', 'b'}),
		"missing qtype":     cat(hdr(1, 0), []byte{1, 'a', 0, 0}),
		"self pointer":      cat(hdr(1, 0), q(0xc0, 12)),
		"forward pointer":   cat(hdr(1, 0), q(0xc0, 14, 0)),
		"pointer loop":      cat(hdr(2, 0), q(1, 'a', 0xc0, 20), q(0xc0, 12)),
		"label loop":        cat(hdr(1, 0), []byte{1, 'a', 0xc0, 12}),
		"truncated pointer": cat(hdr(1, 0), []byte{0xc0}),
		"extended label":    cat(hdr(1, 0), q(0x40, 0)),
		"dot in label":      cat(hdr(1, 0), q(3, 'a', '.', 'b', 0)),
		"trailing bytes":    cat(hdr(1, 0), q(1, 'a', 0), []byte{0}),
		"rdata too long": cat(hdr(0, 1), []byte{0, 0, 16, 0, 1, 0, 0, 0, 30, 0, 9},
			[]byte{3, 'a', 'b', 'c'}),
		"long name": cat(hdr(1, 0), q(append(bytes.Repeat([]byte{63}, 1), bytes.Repeat([]byte{'x'}, 63)...)...),
			[]byte{}),
	}
	// A 260-byte name built from four 63-byte labels plus one more.
	var long []byte
	for range 5 {
		long = append(long, 63)
		long = append(long, bytes.Repeat([]byte{'x'}, 63)...)
	}
	cases["name over 255"] = cat(hdr(1, 0), q(long...))
	delete(cases, "long name")
	for name, in := range cases {
		if m, err := ParseMessage(in); !errors.Is(err, ErrMalformedDNS) {
			t.Errorf("%s: err = %v, msg %+v", name, err, m)
		}
	}
}

func TestParseCompressionChain(t *testing.T) {
	// "a.b" at 12, then a name "c" + pointer to it, then a pointer to that.
	b := []byte{0, 0, 0x80, 0, 0, 3, 0, 0, 0, 0, 0, 0}
	b = append(b, 1, 'a', 1, 'b', 0, 0, 16, 0, 1) // offset 12
	b = append(b, 1, 'c', 0xc0, 12, 0, 16, 0, 1)  // offset 21
	b = append(b, 0xc0, 21, 0, 16, 0, 1)
	m, err := ParseMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.b", "c.a.b", "c.a.b"}
	for i, q := range m.Questions {
		if q.Name != want[i] {
			t.Fatalf("name %d = %q, want %q", i, q.Name, want[i])
		}
	}
}

func TestTXTData(t *testing.T) {
	long := strings.Repeat("z", 300)
	for _, s := range []string{"", "relay=x", long} {
		parts, err := TXTStrings(TXTData(s))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(bytes.Join(parts, nil)); got != s {
			t.Fatalf("TXT round trip of %d bytes gave %d", len(s), len(got))
		}
	}
	if parts, _ := TXTStrings(TXTData(long)); len(parts) != 2 || len(parts[0]) != 255 {
		t.Fatalf("300 bytes split into %d strings", len(parts))
	}
	if _, err := TXTStrings([]byte{5, 'a'}); !errors.Is(err, ErrMalformedDNS) {
		t.Fatalf("err = %v", err)
	}
}
