package natpmp

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// TestBytes pins the encodings against the RFC 6886 layout, written out by hand.
func TestBytes(t *testing.T) {
	if got := hex.EncodeToString(Request{Opcode: OpExternalAddress}.Append(nil)); got != "0000" {
		t.Fatalf("external address request %s", got)
	}
	m := Request{Opcode: OpMapUDP, InternalPort: 40000, SuggestedPort: 1, Lifetime: 7200}
	if got := hex.EncodeToString(m.Append(nil)); got != "0001"+"0000"+"9c40"+"0001"+"00001c20" {
		t.Fatalf("map request %s", got)
	}
	r, err := ParseResponse([]byte{0, 128, 0, 0, 0, 0, 0, 9, 5, 5, 5, 1})
	if err != nil || r.ExternalAddr != netip.MustParseAddr("5.5.5.1") || r.Epoch != 9 {
		t.Fatalf("address response %+v, %v", r, err)
	}
	r, err = ParseResponse([]byte{0, 129, 0, 0, 0, 0, 0, 1, 0x9c, 0x40, 0x9c, 0x41, 0, 0, 0x1c, 0x20})
	if err != nil || r.Opcode != OpMapUDP || r.InternalPort != 40000 || r.ExternalPort != 40001 || r.Lifetime != 7200 {
		t.Fatalf("map response %+v, %v", r, err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, resp := range []Response{
		{Opcode: OpExternalAddress, Epoch: 3, ExternalAddr: netip.MustParseAddr("1.2.3.4")},
		{Opcode: OpMapTCP, Result: Success, Epoch: 1, InternalPort: 5, ExternalPort: 6, Lifetime: 7},
	} {
		got, err := ParseResponse(resp.Append(nil))
		if err != nil || got != resp {
			t.Errorf("%+v -> %+v, %v", resp, got, err)
		}
	}
	req := Request{Opcode: OpMapUDP, InternalPort: 1, SuggestedPort: 2, Lifetime: 3}
	if got, err := ParseRequest(req.Append(nil)); err != nil || got != req {
		t.Errorf("request %+v -> %+v, %v", req, got, err)
	}
}

func TestParseResponseRefuses(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrLength},
		{"oversize", make([]byte, 17), ErrLength},
		{"pcp version", []byte{2, 129, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrVersion},
		{"request", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrNotResponse},
		{"opcode", []byte{0, 131, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrOpcode},
		{"address response padded", []byte{0, 128, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}, ErrLength},
		{"map response cut", []byte{0, 129, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, ErrLength},
		{"success without body", []byte{0, 128, 0, 0, 0, 0, 0, 0}, ErrLength},
	}
	for _, c := range cases {
		if _, err := ParseResponse(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	r, err := ParseResponse([]byte{0, 129, 0, 2, 0, 0, 0, 0})
	if err != nil || r.Result != NotAuthorized {
		t.Fatalf("bodiless error: %+v, %v", r, err)
	}
	if NotAuthorized.String() != "not authorized or refused" || ResultCode(77).String() != "result(77)" {
		t.Fatal("result code names")
	}
}
