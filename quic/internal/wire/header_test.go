package wire

import (
	"bytes"
	"errors"
	"testing"
)

var (
	testDCID = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	testSCID = []byte{9, 10, 11, 12}
)

func TestLongHeaderRoundTrip(t *testing.T) {
	for _, pt := range []PacketType{PacketInitial, Packet0RTT, PacketHandshake} {
		for _, pnLen := range []int{1, 2, 3, 4} {
			in := Header{Type: pt, Version: Version1, DCID: testDCID, SCID: testSCID, Token: []byte("tok")}
			const payload = 40
			b, err := AppendLongHeader(nil, &in, 0x01020304, pnLen, pnLen+payload)
			if err != nil {
				t.Fatal(err)
			}
			pnOffset := len(b) - pnLen
			b = append(b, make([]byte, payload)...)
			// A second coalesced packet after this one.
			b = append(b, 0x40, 0xff)
			h, err := ParseHeader(b, 8)
			if err != nil {
				t.Fatalf("%s: %v", pt, err)
			}
			if h.Type != pt || h.Version != Version1 || !bytes.Equal(h.DCID, testDCID) ||
				!bytes.Equal(h.SCID, testSCID) || h.PNOffset != pnOffset || h.PacketLen != len(b)-2 {
				t.Fatalf("%s: parsed %+v", pt, h)
			}
			if pt == PacketInitial && string(h.Token) != "tok" {
				t.Fatalf("token %q", h.Token)
			}
			if pt != PacketInitial && h.Token != nil {
				t.Fatalf("%s carries a token", pt)
			}
			pn, _ := ReadPacketNumber(b[h.PNOffset:], int(b[0]&3)+1)
			if pn != 0x01020304&(1<<(8*pnLen)-1) {
				t.Fatalf("pn %#x", pn)
			}
		}
	}
}

func TestShortHeaderAndSplit(t *testing.T) {
	long, _ := AppendLongHeader(nil, &Header{Type: PacketHandshake, Version: Version1, DCID: testDCID}, 7, 1, 21)
	long = append(long, make([]byte, 20)...)
	dg := append([]byte(nil), long...)
	dg, err := AppendShortHeader(dg, testDCID, 0x1234, 2, true, true)
	if err != nil {
		t.Fatal(err)
	}
	dg = append(dg, make([]byte, 30)...)

	pkt, rest, h, err := SplitPacket(dg, len(testDCID))
	if err != nil || !bytes.Equal(pkt, long) || h.Type != PacketHandshake {
		t.Fatalf("first packet: %v %+v", err, h)
	}
	pkt, rest, h, err = SplitPacket(rest, len(testDCID))
	if err != nil || len(rest) != 0 || h.Type != Packet1RTT || !bytes.Equal(h.DCID, testDCID) || h.PNOffset != 9 {
		t.Fatalf("short packet: %v %+v", err, h)
	}
	if pkt[0] != 0x40|0x20|0x04|0x01 {
		t.Fatalf("first byte %#x", pkt[0])
	}
}

func TestRetryAndVersionNegotiation(t *testing.T) {
	retry, err := AppendRetry(nil, Version1, testDCID, testSCID, []byte("retry-token"))
	if err != nil {
		t.Fatal(err)
	}
	retry = append(retry, bytes.Repeat([]byte{0xee}, RetryTagLen)...)
	h, err := ParseHeader(retry, 0)
	if err != nil || h.Type != PacketRetry || string(h.Token) != "retry-token" || h.PacketLen != len(retry) {
		t.Fatalf("retry: %v %+v", err, h)
	}
	if _, err := ParseHeader(retry[:len(retry)-len("retry-token")-RetryTagLen+3], 0); !errors.Is(err, ErrTruncated) {
		t.Errorf("retry without tag: %v", err)
	}

	vn, err := AppendVersionNegotiation(nil, testSCID, testDCID, []uint32{Version1, 0x1a2a3a4a}, 0x15)
	if err != nil {
		t.Fatal(err)
	}
	h, err = ParseHeader(vn, 0)
	if err != nil || h.Type != PacketVersionNegotiation || !bytes.Equal(h.DCID, testSCID) {
		t.Fatalf("VN: %v %+v", err, h)
	}
	if got := h.Versions(nil); len(got) != 2 || got[0] != Version1 || got[1] != 0x1a2a3a4a {
		t.Fatalf("versions %x", got)
	}
	if _, err := ParseHeader(vn[:len(vn)-1], 0); !errors.Is(err, ErrHeaderField) {
		t.Errorf("ragged version list: %v", err)
	}
	if _, err := AppendVersionNegotiation(nil, nil, nil, nil, 0); err == nil {
		t.Error("empty version list accepted")
	}
}

func TestHeaderRejections(t *testing.T) {
	initial, _ := AppendLongHeader(nil, &Header{Type: PacketInitial, Version: Version1, DCID: testDCID, SCID: testSCID}, 0, 4, 100)
	initial = append(initial, make([]byte, 96)...)

	unknown := append([]byte(nil), initial...)
	unknown[4] = 0x2a // version 0x0000002a
	h, err := ParseHeader(unknown, 0)
	if !errors.Is(err, ErrUnsupportedVersion) || h.Version != 0x2a || !bytes.Equal(h.DCID, testDCID) {
		t.Errorf("unknown version: %v %+v", err, h)
	}

	noFixed := append([]byte(nil), initial...)
	noFixed[0] &^= 0x40
	longCID := append([]byte(nil), initial...)
	longCID[5] = 21
	shortNoFixed := []byte{0x01, 1, 2, 3}
	cases := map[string]struct {
		b       []byte
		dcidLen int
		want    error
	}{
		"empty":              {nil, 0, ErrTruncated},
		"long fixed bit":     {noFixed, 0, ErrFixedBit},
		"short fixed bit":    {shortNoFixed, 0, ErrFixedBit},
		"cid too long":       {longCID, 0, ErrConnIDLen},
		"length past end":    {initial[:len(initial)-1], 0, ErrTruncated},
		"short truncated":    {[]byte{0x40, 1, 2}, 8, ErrTruncated},
		"short dcid len":     {[]byte{0x40, 1, 2}, 21, ErrConnIDLen},
		"header cut in cids": {initial[:8], 0, ErrTruncated},
		"zero length":        {[]byte{0xc0, 0, 0, 0, 1, 0, 0, 0, 0x00}, 0, ErrHeaderField},
		"token past end":     {[]byte{0xc0, 0, 0, 0, 1, 0, 0, 0x05, 1}, 0, ErrTruncated},
	}
	for name, c := range cases {
		if _, err := ParseHeader(c.b, c.dcidLen); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}

	if _, err := AppendLongHeader(nil, &Header{Type: PacketRetry}, 0, 1, 10); err == nil {
		t.Error("Retry via AppendLongHeader accepted")
	}
	if _, err := AppendLongHeader(nil, &Header{Type: PacketInitial, DCID: make([]byte, 21)}, 0, 1, 10); !errors.Is(err, ErrConnIDLen) {
		t.Error("21-byte CID accepted")
	}
	if _, err := AppendLongHeader(nil, &Header{Type: PacketInitial}, 0, 1, MaxLongPacketLength+1); err == nil {
		t.Error("oversized length accepted")
	}
	if _, err := AppendShortHeader(nil, testDCID, 0, 5, false, false); err == nil {
		t.Error("5-byte packet number accepted")
	}
}
