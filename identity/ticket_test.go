package identity

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// ticketFromBytes wraps raw postcard bytes in the ticket text form.
func ticketFromBytes(b []byte) string { return ticketPrefix + base32Std.Encode(b) }

func TestParseTicketCaseHandling(t *testing.T) {
	want, err := ParseTicket(t1String)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(t1String, ticketPrefix)
	mixed := []byte(body)
	for i := 0; i < len(mixed); i += 2 {
		mixed[i] = upperASCII(string(mixed[i]))[0]
	}
	for _, s := range []string{ticketPrefix + strings.ToUpper(body), ticketPrefix + string(mixed)} {
		got, err := ParseTicket(s)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseTicket(%q) = %+v, %v", s, got, err)
		}
	}
	for _, s := range []string{"ENDPOINT" + body, "Endpoint" + body, "node" + body, body, ""} {
		if _, err := ParseTicket(s); !errors.Is(err, ErrInvalidTicket) {
			t.Errorf("ParseTicket(%.20q...) error = %v, want ErrInvalidTicket", s, err)
		}
	}
}

func TestParseTicketBase32Strictness(t *testing.T) {
	cases := map[string]string{
		"trailing bits": t3String[:len(t3String)-1] + "b", // 55 symbols: last has 3 unused bits
		"bad length":    t1String + "a",                   // 97 symbols
		"padding":       t3String + "========",
		"bad symbol":    t3String[:20] + "1" + t3String[21:],
		"space":         t3String + " ",
	}
	for name, s := range cases {
		if _, err := ParseTicket(s); !errors.Is(err, ErrInvalidTicket) {
			t.Errorf("%s: error = %v, want ErrInvalidTicket", name, err)
		}
	}
}

// postcard::from_bytes ignores bytes after a complete value, so iroh accepts
// tickets with trailing garbage; so do we, and re-encoding drops it.
func TestParseTicketIgnoresTrailingBytes(t *testing.T) {
	raw := append(mustHex(t, "00"+k1Public+"00"), 0xde, 0xad)
	got, err := ParseTicket(ticketFromBytes(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != t3String {
		t.Errorf("re-encoded = %s, want %s", got.String(), t3String)
	}
}

func TestParseTicketRejects(t *testing.T) {
	id := k1Public
	v4 := "0100" + "7f000001" + "8008"
	cases := []struct {
		name, hex string
		want      error
	}{
		{"empty", "", ErrInvalidTicket},
		{"wire variant 1", "01" + id + "00", ErrInvalidTicket},
		{"truncated id", "00" + id[:62], ErrInvalidTicket},
		{"invalid point", "00" + hex.EncodeToString(notAPoint(t)) + "00", ErrInvalidPoint},
		{"missing count", "00" + id, ErrInvalidTicket},
		{"count beyond input", "00" + id + "05" + v4, ErrInvalidTicket},
		{"huge count", "00" + id + "ffffffffffffffffff01", ErrInvalidTicket},
		{"count varint too long", "00" + id + "ffffffffffffffffff02", ErrInvalidTicket},
		{"count varint 11 bytes", "00" + id + "8080808080808080808000", ErrInvalidTicket},
		{"address variant 3", "00" + id + "01" + "03", ErrInvalidTicket},
		{"address variant oversize", "00" + id + "01" + "ffffffff1f", ErrInvalidTicket},
		{"socket variant 2", "00" + id + "01" + "0102" + "7f000001" + "00", ErrInvalidTicket},
		{"truncated ipv6", "00" + id + "01" + "0101" + "20010db8", ErrInvalidTicket},
		{"port oversize", "00" + id + "01" + "0100" + "7f000001" + "ffff04", ErrInvalidTicket},
		{"port varint too long", "00" + id + "01" + "0100" + "7f000001" + "80808000", ErrInvalidTicket},
		{"missing port", "00" + id + "01" + "0100" + "7f000001", ErrInvalidTicket},
		{"relay bad utf8", "00" + id + "01" + "00" + "02" + "c328", ErrInvalidTicket},
		{"relay truncated", "00" + id + "01" + "00" + "10" + "6874", ErrInvalidTicket},
		{"relay not a URL", "00" + id + "01" + "00" + "03" + hex.EncodeToString([]byte("foo")), ErrInvalidRelayURL},
		{"relay ftp", "00" + id + "01" + "00" + "08" + hex.EncodeToString([]byte("ftp://h/")), ErrUnsupportedAddr},
		{"custom inline size 31", "00" + id + "01" + "02" + "07" + "00" + "1f" + strings.Repeat("00", 30), ErrInvalidTicket},
		{"custom inline truncated", "00" + id + "01" + "02" + "07" + "00" + "02" + "abcd", ErrInvalidTicket},
		{"custom form 2", "00" + id + "01" + "02" + "07" + "02" + "00", ErrInvalidTicket},
		{"custom heap truncated", "00" + id + "01" + "02" + "07" + "01" + "05" + "abcd", ErrInvalidTicket},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTicket(ticketFromBytes(mustHex(t, tc.hex)))
			if !errors.Is(err, ErrInvalidTicket) || !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want ErrInvalidTicket and %v", err, tc.want)
			}
		})
	}
}

func TestParseTicketTruncations(t *testing.T) {
	for _, full := range []string{t1Bytes, t2Bytes, "00" + k1Public + "00"} {
		b := mustHex(t, full)
		for n := range len(b) {
			if _, err := UnmarshalTicketBinary(b[:n]); !errors.Is(err, ErrInvalidTicket) {
				t.Errorf("prefix of %d/%d bytes: error = %v", n, len(b), err)
			}
		}
	}
}

// postcard accepts over-long varints padded with continuation bytes.
func TestParseTicketOverlongVarints(t *testing.T) {
	raw := mustHex(t, "8000"+k3Public+"8200"+"800010687474703a2f2f646572702e6d652e2f"+"8100"+"8000"+"7f000001"+"808800")
	got, err := UnmarshalTicketBinary(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != t1String {
		t.Errorf("over-long encoding decoded to %+v", got)
	}
}

func TestTicketNormalisesWireRelayURL(t *testing.T) {
	url := "HTTP://Derp.ME.:80"
	raw := append(mustHex(t, "00"+k3Public+"0100"), byte(len(url)))
	raw = append(raw, url...)
	got, err := UnmarshalTicketBinary(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://derp.me./"}; !reflect.DeepEqual(got.Relays, want) {
		t.Errorf("Relays = %q, want %q", got.Relays, want)
	}
}

func TestTicketOrderAndDuplicates(t *testing.T) {
	id := k1Secret(t).Public()
	tk := EndpointAddr{
		ID:     id,
		Relays: []string{"https://b.example/", "https://a.example", "https://b.example"},
		Addrs: []netip.AddrPort{
			netip.MustParseAddrPort("[::1]:1"),
			netip.MustParseAddrPort("10.0.0.1:2"),
			netip.MustParseAddrPort("9.0.0.1:3"),
			netip.MustParseAddrPort("10.0.0.1:1"),
			netip.MustParseAddrPort("[::ffff:1.2.3.4]:1"),
			netip.MustParseAddrPort("10.0.0.1:1"),
		},
		Custom: []CustomAddr{
			{ID: 2, Data: []byte{1}},
			{ID: 1, Data: bytes.Repeat([]byte{0}, 31)},
			{ID: 1, Data: []byte{9}},
			{ID: 1, Data: []byte{1, 1}},
			{ID: 1, Data: []byte{9}},
		},
	}
	got, err := ParseTicket(tk.String())
	if err != nil {
		t.Fatal(err)
	}
	want := EndpointAddr{
		ID:     id,
		Relays: []string{"https://a.example/", "https://b.example/"},
		Addrs: []netip.AddrPort{
			netip.MustParseAddrPort("9.0.0.1:3"),
			netip.MustParseAddrPort("10.0.0.1:1"),
			netip.MustParseAddrPort("10.0.0.1:2"),
			netip.MustParseAddrPort("[::1]:1"),
			netip.MustParseAddrPort("[::ffff:1.2.3.4]:1"),
		},
		Custom: []CustomAddr{
			{ID: 1, Data: []byte{9}},                   // inline, length 1
			{ID: 1, Data: []byte{1, 1}},                // inline, length 2
			{ID: 1, Data: bytes.Repeat([]byte{0}, 31)}, // heap after inline
			{ID: 2, Data: []byte{1}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// The serialised set must list relays, then IPs, then custom addresses.
	b, _ := tk.MarshalBinary()
	if b[33] != 11 || b[34] != addrRelay {
		t.Errorf("count/first tag = %d/%d", b[33], b[34])
	}
}

func TestTicketCustomEncoding(t *testing.T) {
	id := k1Secret(t).Public()
	inline := EndpointAddr{ID: id, Custom: []CustomAddr{{ID: 0x544f52, Data: []byte{0xa1, 0xb2}}}}
	b, err := inline.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := "00" + k1Public + "01" + "02" + "d29ed102" + "00" + "02" + "a1b2" + strings.Repeat("00", 28)
	if hex.EncodeToString(b) != want {
		t.Errorf("inline custom = %x\nwant             %s", b, want)
	}
	heap := EndpointAddr{ID: id, Custom: []CustomAddr{{ID: 1, Data: bytes.Repeat([]byte{7}, 31)}}}
	b, _ = heap.MarshalBinary()
	want = "00" + k1Public + "01" + "02" + "01" + "01" + "1f" + strings.Repeat("07", 31)
	if hex.EncodeToString(b) != want {
		t.Errorf("heap custom = %x\nwant           %s", b, want)
	}
	// Non-canonical forms iroh 1.0 also decodes: a short heap value and
	// garbage in the inline padding. Both come back canonical.
	for _, raw := range []string{
		"00" + k1Public + "01" + "02" + "d29ed102" + "01" + "02" + "a1b2",
		"00" + k1Public + "01" + "02" + "d29ed102" + "00" + "02" + "a1b2" + strings.Repeat("ff", 28),
	} {
		got, err := UnmarshalTicketBinary(mustHex(t, raw))
		if err != nil || !reflect.DeepEqual(got, inline) {
			t.Errorf("UnmarshalTicketBinary(%s) = %+v, %v", raw, got, err)
		}
	}
}

func TestTicketMarshalErrors(t *testing.T) {
	good := k1Secret(t).Public()
	cases := map[string]struct {
		tk   EndpointAddr
		want error
	}{
		"invalid id":   {EndpointAddr{ID: EndpointID(notAPoint(t))}, ErrInvalidPoint},
		"bad relay":    {EndpointAddr{ID: good, Relays: []string{"relay.example"}}, ErrInvalidRelayURL},
		"invalid addr": {EndpointAddr{ID: good, Addrs: []netip.AddrPort{{}}}, ErrInvalidTicket},
		"unsupported":  {EndpointAddr{ID: good, Relays: []string{"quic://h"}}, ErrUnsupportedAddr},
	}
	for name, tc := range cases {
		_, err := tc.tk.MarshalBinary()
		if !errors.Is(err, ErrInvalidTicket) || !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v", name, err)
		}
		if s := tc.tk.String(); !strings.HasPrefix(s, "<invalid ticket") {
			t.Errorf("%s: String = %q", name, s)
		}
	}
}

func TestTicketTextAndBinaryMethods(t *testing.T) {
	want, _ := ParseTicket(t2String)
	out, err := json.Marshal(map[string]EndpointAddr{"t": want})
	if err != nil || string(out) != `{"t":"`+t2String+`"}` {
		t.Fatalf("json = %s, %v", out, err)
	}
	var back map[string]EndpointAddr
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back["t"], want) {
		t.Fatalf("json round trip = %+v, %v", back, err)
	}
	var tk EndpointAddr
	if err := tk.UnmarshalBinary(mustHex(t, t2Bytes)); err != nil || !reflect.DeepEqual(tk, want) {
		t.Fatalf("UnmarshalBinary = %+v, %v", tk, err)
	}
	if err := tk.UnmarshalText([]byte("endpointx")); !errors.Is(err, ErrInvalidTicket) {
		t.Fatalf("UnmarshalText(bad) error = %v", err)
	}
	if !reflect.DeepEqual(tk, want) {
		t.Fatal("failed UnmarshalText modified the receiver")
	}
}
