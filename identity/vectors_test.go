package identity

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"testing"
)

// Test vectors from the iroh 1.0 identity study (relay-lookup-wire.md §9):
// (R) literal in the Rust test suite, (J) produced or accepted by the iroh
// JS binding, (G) derived from the published rules.
const (
	k1Public  = "197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61"
	k1Short   = "197f6b23e1"
	k1Base32  = "df7wwi7bnsctfrvlza4pvtk6u6e34ddwwkjagnadtp5iwpjwrvqq"
	k1ZBase32 = "df9sse9bp1nuftim3yhxiuk6w6r5hddsskjygpydux7esxjstioo"
	k1Hello   = "8443bb10077574ee765d8b6585cb590b3a6f8951336d37018c5646b5618df50207bc2b458ddcfaee14ca46f89bb581c4b8951202f6a0a8442018dd5882af6306"

	k2Secret  = "vpnk377obfvzlipnsfbqba7ywkkenc4xlpmovt5tsfujoa75zqia"
	k2Seed    = "abdaadffee096b95a1ed91430083f8b294468b975bd8eacfb391689703fdcc10"
	k2Public  = "3cf359f65ae705eb279a5750eec57f4ac6efc635e04d92d60eadcca87d250f18"
	k2ZBase32 = "8u3iu714hhn6sjh4k7eq7tm9jmdq9ttihbg3fioqizgko9jfbhcy"

	k3Public  = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6"
	k3ZBase32 = "i3cx9nburopcommx67otytzpc64oqmewftce4ydd7fbpuj4iyk5y"

	t1String = "endpointacxfr74igmsbvsbnn73wcecg5vt3kbzncqwfrdiampuufwnhkublmaqacbuhi5dqhixs6zdfojyc43lffyxqcad7aaaadaai"
	t1Bytes  = "00" + k3Public + "02" + "0010687474703a2f2f646572702e6d652e2f" + "01007f0000018008"
	t2String = "endpointaamx62zd4fwikmwgvpedr6wnl2tytpqmo2zjeazuaon7vcz5g2gwcayaenuhi5dqom5c6l3vonstcljrfzzgk3dbpexg4mbonfzg62bonruw42zof4aqaaicamck4labaeqacdnyaaaaaaaaaaaaaaaaaaa3way"
	t2Bytes  = "00" + k1Public + "03" +
		"0023" + "68747470733a2f2f757365312d312e72656c61792e6e302e69726f682e6c696e6b2e2f" +
		"010001020304ae2c" +
		"010120010db8000000000000000000000001bb03"
	t3String = "endpointaamx62zd4fwikmwgvpedr6wnl2tytpqmo2zjeazuaon7vcz5g2gwcaa"
)

func k1Secret(t testing.TB) SecretKey {
	t.Helper()
	k, err := SecretKeyFromBytes(bytes.Repeat([]byte{0x2a}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectorK1(t *testing.T) {
	k := k1Secret(t)
	id := k.Public()
	if got := id.String(); got != k1Public {
		t.Errorf("public = %s, want %s", got, k1Public)
	}
	if got := id.Short(); got != k1Short {
		t.Errorf("Short = %s, want %s", got, k1Short)
	}
	if got := id.Base32(); got != k1Base32 {
		t.Errorf("Base32 = %s, want %s", got, k1Base32)
	}
	if got := id.ZBase32(); got != k1ZBase32 {
		t.Errorf("ZBase32 = %s, want %s", got, k1ZBase32)
	}
	sig := k.Sign([]byte("hello"))
	if got := hex.EncodeToString(sig); got != k1Hello {
		t.Errorf("Sign(hello) = %s, want %s", got, k1Hello)
	}
	if !id.Verify([]byte("hello"), sig) {
		t.Error("Verify rejects the K1 hello signature")
	}
	if id.Verify([]byte("hellO"), sig) {
		t.Error("Verify accepts a signature over another message")
	}
	for _, s := range []string{k1Public, k1Base32, upperASCII(k1Base32)} {
		got, err := ParseEndpointID(s)
		if err != nil || got != id {
			t.Errorf("ParseEndpointID(%q) = %v, %v; want %v", s, got, err, id)
		}
	}
	got, err := ParseZBase32(k1ZBase32)
	if err != nil || got != id {
		t.Errorf("ParseZBase32 = %v, %v", got, err)
	}
}

func TestVectorK2(t *testing.T) {
	for _, s := range []string{k2Secret, upperASCII(k2Secret), k2Seed} {
		k, err := ParseSecretKey(s)
		if err != nil {
			t.Fatalf("ParseSecretKey(%q): %v", s, err)
		}
		if seed := k.Bytes(); hex.EncodeToString(seed[:]) != k2Seed {
			t.Errorf("seed = %x, want %s", seed, k2Seed)
		}
		if got := k.Public().String(); got != k2Public {
			t.Errorf("public = %s, want %s", got, k2Public)
		}
		if got := k.Public().ZBase32(); got != k2ZBase32 {
			t.Errorf("z32 = %s, want %s", got, k2ZBase32)
		}
	}
}

func TestVectorK3(t *testing.T) {
	id, err := ParseEndpointID(k3Public)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.ZBase32(); got != k3ZBase32 {
		t.Errorf("z32 = %s, want %s", got, k3ZBase32)
	}
	back, err := ParseZBase32(k3ZBase32)
	if err != nil || back != id {
		t.Errorf("ParseZBase32 = %v, %v", back, err)
	}
}

func TestTicketVectors(t *testing.T) {
	k1, k3 := k1Secret(t).Public(), mustID(t, k3Public)
	cases := []struct {
		name, str, bytesHex string
		ticket              EndpointAddr
	}{
		{"T1", t1String, t1Bytes, EndpointAddr{
			ID:     k3,
			Relays: []string{"http://derp.me./"},
			Addrs:  []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:1024")},
		}},
		{"T2", t2String, t2Bytes, EndpointAddr{
			ID:     k1,
			Relays: []string{"https://use1-1.relay.n0.iroh.link./"},
			Addrs: []netip.AddrPort{
				netip.MustParseAddrPort("1.2.3.4:5678"),
				netip.MustParseAddrPort("[2001:db8::1]:443"),
			},
		}},
		{"T3", t3String, "00" + k1Public + "00", EndpointAddr{ID: k1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTicket(tc.str)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.ticket) {
				t.Errorf("ParseTicket = %+v, want %+v", got, tc.ticket)
			}
			b, err := tc.ticket.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(b) != tc.bytesHex {
				t.Errorf("MarshalBinary = %x, want %s", b, tc.bytesHex)
			}
			if s := tc.ticket.String(); s != tc.str {
				t.Errorf("String = %s, want %s", s, tc.str)
			}
			back, err := UnmarshalTicketBinary(mustHex(t, tc.bytesHex))
			if err != nil || !reflect.DeepEqual(back, tc.ticket) {
				t.Errorf("UnmarshalTicketBinary = %+v, %v", back, err)
			}
		})
	}
}

// T2 was produced by iroh from a relay URL typed without the trailing slash
// and addresses in another order; encoding must normalise and sort the same.
func TestTicketNormalisesLikeIroh(t *testing.T) {
	tk := EndpointAddr{
		ID:     k1Secret(t).Public(),
		Relays: []string{"https://use1-1.relay.n0.iroh.link.", "HTTPS://use1-1.relay.n0.iroh.link.:443/"},
		Addrs: []netip.AddrPort{
			netip.MustParseAddrPort("[2001:db8::1%eth0]:443"),
			netip.MustParseAddrPort("1.2.3.4:5678"),
			netip.MustParseAddrPort("1.2.3.4:5678"),
		},
	}
	if s := tk.String(); s != t2String {
		t.Errorf("String = %s, want %s", s, t2String)
	}
}

func mustID(t testing.TB, s string) EndpointID {
	t.Helper()
	id, err := ParseEndpointID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
