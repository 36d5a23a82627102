package lookup

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"

	"github.com/alkdev/irohspoke/identity"
)

// The pkarr vector of relay-lookup-wire.md §9: key K1 (seed 32 × 0x2a),
// timestamp 1700000000000000 µs, one record
// relay=https://use1-1.relay.n0.iroh.link./ with TTL 30.
const (
	vecTimestamp = 1700000000000000
	vecRelay     = "https://use1-1.relay.n0.iroh.link./"
	vecDNSHex    = "000080000000000100000000055f69726f6834646639737365396270316e756674696d3379687869756b367736723568646473736b6a79677079647578376573786a7374696f6f00001000010000001e002a2972656c61793d68747470733a2f2f757365312d312e72656c61792e6e302e69726f682e6c696e6b2e2f"
	vecSigHex    = "03ea74439582a0381b6c4dfbef0eb94f5365448605bb6dc112a1c5129147621271c72a9cafb501221d2bfdbe6444ff2e775c2582358ea8aac4942ce43a394200"
	vecZ32       = "df9sse9bp1nuftim3yhxiuk6w6r5hddsskjygpydux7esxjstioo"
)

func k1(t testing.TB) identity.SecretKey {
	t.Helper()
	k, err := identity.SecretKeyFromBytes(bytes.Repeat([]byte{0x2a}, 32))
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

func TestPkarrVector(t *testing.T) {
	key := k1(t)
	if got := key.Public().ZBase32(); got != vecZ32 {
		t.Fatalf("z32 = %s", got)
	}
	wantDNS := mustHex(t, vecDNSHex)
	dns, err := BuildDNS(EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: key.Public(), Relays: []string{vecRelay}}}, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dns, wantDNS) {
		t.Fatalf("DNS message\n got %x\nwant %x", dns, wantDNS)
	}
	if got := string(signable(vecTimestamp, dns)[:len("3:seqi1700000000000000e1:v124:")]); got != "3:seqi1700000000000000e1:v124:" {
		t.Fatalf("signed prefix %q", got)
	}
	p, err := SignEndpointInfo(key, EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{vecRelay}}}, vecTimestamp, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(p.Signature[:]); got != vecSigHex {
		t.Fatalf("signature %s", got)
	}
	body := p.RelayPayload()
	wantBody := append(append(mustHex(t, vecSigHex), mustHex(t, "00060a24181e4000")...), wantDNS...)
	if len(body) != 196 || !bytes.Equal(body, wantBody) {
		t.Fatalf("PUT body (%d B) %x", len(body), body)
	}
	pub := key.Public()
	if !bytes.Equal(p.Bytes(), append(pub[:], wantBody...)) {
		t.Fatal("full packet is not key ‖ body")
	}

	got, err := ParseRelayPayload(key.Public(), wantBody)
	if err != nil {
		t.Fatal(err)
	}
	info, err := got.EndpointInfo()
	if err != nil {
		t.Fatal(err)
	}
	if got.Timestamp != vecTimestamp || len(info.Relays) != 1 || info.Relays[0] != vecRelay || info.ID != key.Public() {
		t.Fatalf("decoded %+v ts %d", info, got.Timestamp)
	}
}

func TestPkarrRejects(t *testing.T) {
	key := k1(t)
	p, err := SignEndpointInfo(key, EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{vecRelay}}}, vecTimestamp, DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	good := p.Bytes()
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	other := identity.EndpointID(mustHex(t, "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6"))
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"short", good[:103], ErrMalformedPacket},
		{"huge", append(bytes.Clone(good), make([]byte, MaxSignedPacketLen)...), ErrMalformedPacket},
		{"sig", flip(40), ErrBadSignature},
		{"timestamp", flip(100), ErrBadSignature},
		{"dns", flip(len(good) - 1), ErrBadSignature},
		{"other key", append(other[:], good[32:]...), ErrBadSignature},
		{"small-order key", append(make([]byte, 32), good[32:]...), ErrBadSignature},
	}
	for _, c := range cases {
		if _, err := ParseSignedPacket(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// A correctly signed packet whose DNS message does not parse.
	bad := []byte{0, 0, 0x80, 0x40, 0, 0, 0, 0, 0, 0, 0, 0} // Z flag set
	sp := &SignedPacket{ID: key.Public(), Timestamp: 1, DNS: bad}
	copy(sp.Signature[:], key.Sign(signable(1, bad)))
	if _, err := ParseSignedPacket(sp.Bytes()); !errors.Is(err, ErrMalformedPacket) {
		t.Errorf("unparsable DNS: err = %v", err)
	}
	if _, err := Sign(key, 1, bad); !errors.Is(err, ErrMalformedDNS) {
		t.Errorf("Sign of bad DNS: err = %v", err)
	}
}

func TestPkarrTooLarge(t *testing.T) {
	info := EndpointInfo{}
	for i := range 60 {
		info.Addrs = append(info.Addrs, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 443))
	}
	if _, err := SignEndpointInfo(k1(t), info, 1, DefaultTTL); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewerThanAndNow(t *testing.T) {
	a := &SignedPacket{Timestamp: 2, DNS: []byte{1}}
	b := &SignedPacket{Timestamp: 1, DNS: []byte{9}}
	c := &SignedPacket{Timestamp: 2, DNS: []byte{2}}
	if !a.NewerThan(b) || b.NewerThan(a) || !c.NewerThan(a) || a.NewerThan(c) || a.NewerThan(a) {
		t.Fatal("NewerThan order wrong")
	}
	prev := Now()
	for range 1000 {
		n := Now()
		if n <= prev {
			t.Fatalf("Now not strictly increasing: %d after %d", n, prev)
		}
		prev = n
	}
}

func TestPacketRoundTripMany(t *testing.T) {
	key := k1(t)
	info := EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{"https://b.example", "http://a.example:8080"}, Addrs: []netip.AddrPort{
		netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.MustParseAddrPort("192.0.2.7:1234"),
		netip.MustParseAddrPort("192.0.2.7:1234"),
	}}, UserData: "hello=world"}
	p, err := SignEndpointInfo(key, info, Now(), DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := p.TXTRecords()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"relay=http://a.example:8080/", "relay=https://b.example/",
		"addr=192.0.2.7:1234", "addr=[2001:db8::1]:443", "user-data=hello=world",
	}
	if len(recs) != len(want) {
		t.Fatalf("records %q", recs)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Fatalf("record %d = %q, want %q", i, recs[i], want[i])
		}
	}
	// Several records share a name, so the packet must use compression.
	if len(p.DNS) > 12+len(recs)*(10+20)+200 {
		t.Fatalf("DNS message of %d bytes looks uncompressed", len(p.DNS))
	}
	got, err := p.EndpointInfo()
	if err != nil {
		t.Fatal(err)
	}
	// Rust's split rule keeps only the text between the first two '='.
	if got.UserData != "hello" || len(got.Addrs) != 2 || len(got.Relays) != 2 {
		t.Fatalf("info %+v", got)
	}
}
