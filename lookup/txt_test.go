package lookup

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/identity"
)

func TestParseTXTAttrs(t *testing.T) {
	id := k1(t).Public()
	got := ParseTXTAttrs(id, []string{
		"relay=https://use1-1.relay.n0.iroh.link./",
		"relay=HTTPS://Example.COM",        // normalised
		"relay=not a url",                  // skipped
		"addr=1.2.3.4:5678",                // kept
		"addr=[2001:db8::1]:443",           // kept
		"addr=1.2.3.4:5678",                // duplicate
		"addr=[::ffff:10.0.0.1]:7",         // unmapped
		"addr=1.2.3.4",                     // no port: skipped
		"addr=1f_abcd",                     // custom address: skipped
		"addr=5.6.7.8:9=trailing",          // value ends at the second '='
		"user-data=first",                  // the first user-data wins
		"user-data=second",                 //
		"future-key=whatever",              // Rust fails the lookup; we ignore it
		"no equals sign",                   // likewise
		"=empty key",                       //
		"relay=https://x.example/?a=b&c=d", // cut at the second '='
	})
	want := EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: id, Relays: []string{"https://use1-1.relay.n0.iroh.link./", "https://example.com/", "https://x.example/?a"}, Addrs: []netip.AddrPort{
		netip.MustParseAddrPort("1.2.3.4:5678"),
		netip.MustParseAddrPort("[2001:db8::1]:443"),
		netip.MustParseAddrPort("10.0.0.1:7"),
		netip.MustParseAddrPort("5.6.7.8:9"),
	}}, UserData: "first"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestUserDataLimits(t *testing.T) {
	id := identity.EndpointID{}
	max := strings.Repeat("u", MaxUserDataLen)
	if got := ParseTXTAttrs(id, []string{"user-data=" + max + "u"}); got.UserData != "" {
		t.Fatal("over-long user data accepted")
	}
	if got := ParseTXTAttrs(id, []string{"user-data=" + max}); got.UserData != max {
		t.Fatal("245-byte user data refused")
	}
	if _, err := (EndpointInfo{UserData: max + "u"}).TXTAttrs(); !errors.Is(err, ErrUserDataTooLong) {
		t.Fatalf("err = %v", err)
	}
	attrs, err := (EndpointInfo{UserData: max}).TXTAttrs()
	if err != nil || len(attrs) != 1 || len(attrs[0]) != 255 {
		t.Fatalf("attrs %d, err %v", len(attrs), err)
	}
}

func TestTXTAttrsOrderAndRoundTrip(t *testing.T) {
	info := EndpointInfo{EndpointAddr: identity.EndpointAddr{ID: k1(t).Public(), Relays: []string{"https://z.example", "https://a.example"}, Addrs: []netip.AddrPort{
		netip.MustParseAddrPort("[::1]:1"),
		netip.MustParseAddrPort("9.9.9.9:2"),
		netip.MustParseAddrPort("9.9.9.9:1"),
		netip.MustParseAddrPort("1.1.1.1:3"),
	}}, UserData: "ud"}
	attrs, err := info.TXTAttrs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"relay=https://a.example/", "relay=https://z.example/",
		"addr=1.1.1.1:3", "addr=9.9.9.9:1", "addr=9.9.9.9:2", "addr=[::1]:1",
		"user-data=ud",
	}
	if !reflect.DeepEqual(attrs, want) {
		t.Fatalf("attrs %q", attrs)
	}
	back := ParseTXTAttrs(info.ID, attrs)
	if len(back.Relays) != 2 || len(back.Addrs) != 4 || back.UserData != "ud" {
		t.Fatalf("round trip %+v", back)
	}
	if _, err := (EndpointInfo{EndpointAddr: identity.EndpointAddr{Relays: []string{"ftp://x"}}}).TXTAttrs(); err == nil {
		t.Fatal("bad relay URL accepted")
	}
}
