package pcp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

func sampleMap() MapData {
	return MapData{
		Nonce:        [12]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		Protocol:     ProtoUDP,
		InternalPort: 40000,
		ExternalPort: 40001,
		ExternalAddr: netip.MustParseAddr("5.5.5.1"),
	}
}

// TestMapRequestBytes pins the encoding against the RFC 6887 layout,
// written out by hand.
func TestMapRequestBytes(t *testing.T) {
	req := Request{Opcode: OpMap, Lifetime: 3600, ClientAddr: netip.MustParseAddr("10.77.0.2"), Map: sampleMap()}
	want := "02" + "01" + "0000" + "00000e10" + "00000000000000000000ffff0a4d0002" +
		"0102030405060708090a0b0c" + "11" + "000000" + "9c40" + "9c41" + "00000000000000000000ffff05050501"
	got := hex.EncodeToString(req.Append(nil))
	if got != want {
		t.Fatalf("MAP request\n got %s\nwant %s", got, want)
	}
	if len(req.Append(nil)) != MapMessageLen {
		t.Fatalf("length %d, want %d", len(req.Append(nil)), MapMessageLen)
	}
}

func TestAnnounceAndUnspecified(t *testing.T) {
	b := Request{Opcode: OpAnnounce, ClientAddr: netip.MustParseAddr("10.0.0.5")}.Append(nil)
	if len(b) != headerLen || b[1] != 0 {
		t.Fatalf("announce = %x", b)
	}
	// No suggested address: the IPv4-mapped unspecified address.
	m := Request{Opcode: OpMap, Map: MapData{Protocol: ProtoUDP}}.Append(nil)
	if !bytes.Equal(m[44:], netip.MustParseAddr("::ffff:0.0.0.0").AsSlice()) {
		t.Fatalf("suggested address %x", m[44:])
	}
}

func TestRoundTrip(t *testing.T) {
	req := Request{Opcode: OpMap, Lifetime: 7, ClientAddr: netip.MustParseAddr("10.1.2.3"), Map: sampleMap()}
	got, err := ParseRequest(req.Append(nil))
	if err != nil || got != req {
		t.Fatalf("request round trip: %+v, %v", got, err)
	}
	resp := Response{Opcode: OpMap, Result: Success, Lifetime: 120, Epoch: 99, HasMap: true, Map: sampleMap()}
	gotResp, err := ParseResponse(resp.Append(nil))
	if err != nil || gotResp != resp {
		t.Fatalf("response round trip: %+v, %v", gotResp, err)
	}
	// Options after the payload are skipped.
	withOpt := append(resp.Append(nil), 1, 0, 0, 4, 0, 0, 0, 0)
	if gotResp, err = ParseResponse(withOpt); err != nil || gotResp != resp {
		t.Fatalf("with an option: %+v, %v", gotResp, err)
	}
}

func TestParseResponseRefuses(t *testing.T) {
	ok := Response{Opcode: OpMap, HasMap: true, Map: sampleMap()}.Append(nil)
	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), ok...)) }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"header only success", ok[:headerLen], ErrShort},
		{"oversize", make([]byte, MaxMessage+4), ErrTooLong},
		{"unaligned", ok[:len(ok)-1], ErrAlignment},
		{"nat-pmp version", mutate(func(b []byte) []byte { b[0] = 0; return b }), ErrVersion},
		{"request bit", mutate(func(b []byte) []byte { b[1] = byte(OpMap); return b }), ErrNotResponse},
		{"unknown opcode", mutate(func(b []byte) []byte { b[1] = 0x80 | 5; return b }), ErrOpcode},
	}
	for _, c := range cases {
		if _, err := ParseResponse(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	// An error result may come without the MAP payload.
	short := Response{Opcode: OpMap, Result: NotAuthorized, Lifetime: 30}.Append(nil)
	r, err := ParseResponse(short)
	if err != nil || r.Result != NotAuthorized || r.HasMap {
		t.Fatalf("error response: %+v, %v", r, err)
	}
	if NotAuthorized.String() != "NOT_AUTHORIZED" || ResultCode(200).String() != "result(200)" {
		t.Fatal("result code names")
	}
}
