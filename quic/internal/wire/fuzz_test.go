package wire

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzParseFrames(f *testing.F) {
	for _, fr := range sampleFrames() {
		b, _ := fr.Append(nil)
		f.Add(b)
	}
	f.Add([]byte{0x02, 5, 0, 1, 0, 1, 1, 0x01, 0x00, 0x00})
	f.Add([]byte{0x0f, 0, 0x40, 0x10, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			fr, n, err := Parse(b)
			if err != nil {
				return
			}
			if n <= 0 || n > len(b) {
				t.Fatalf("consumed %d of %d", n, len(b))
			}
			b = b[n:]
			enc, err := fr.Append(nil)
			if err != nil {
				t.Fatalf("parsed %s does not re-encode: %v", fr.Type, err)
			}
			if fr.Len() != len(enc) {
				t.Fatalf("%s: Len %d, encoded %d", fr.Type, fr.Len(), len(enc))
			}
			again, m, err := Parse(enc)
			if err != nil || m != len(enc) {
				t.Fatalf("%s: re-encoded frame %x does not parse: %v", fr.Type, enc, err)
			}
			if !reflect.DeepEqual(normalized(again), normalized(fr)) {
				t.Fatalf("%s: round trip changed the frame\n got %+v\nwant %+v", fr.Type, again, fr)
			}
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	initial, _ := AppendLongHeader(nil, &Header{Type: PacketInitial, Version: Version1, DCID: testDCID, SCID: testSCID, Token: []byte{1}}, 0, 2, 30)
	f.Add(append(initial, make([]byte, 28)...), uint8(8))
	short, _ := AppendShortHeader(nil, testDCID, 1, 1, false, false)
	f.Add(append(short, make([]byte, 20)...), uint8(8))
	vn, _ := AppendVersionNegotiation(nil, testDCID, testSCID, []uint32{1}, 0)
	f.Add(vn, uint8(0))
	retry, _ := AppendRetry(nil, Version1, testDCID, nil, []byte("t"))
	f.Add(append(retry, make([]byte, 16)...), uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, dcidLen uint8) {
		rest := b
		for len(rest) > 0 {
			pkt, r, h, err := SplitPacket(rest, int(dcidLen%21))
			if err != nil {
				return
			}
			if len(pkt) == 0 || len(pkt) != h.PacketLen || h.PNOffset > h.PacketLen || len(r) >= len(rest) {
				t.Fatalf("inconsistent header %+v for %d bytes", h, len(rest))
			}
			if h.Type == PacketInitial || h.Type == PacketHandshake || h.Type == Packet0RTT {
				// Re-encoding the parsed fields reproduces the header, up
				// to the width of the Length field.
				length := h.PacketLen - h.PNOffset
				pnLen := int(pkt[0]&3) + 1
				if length >= pnLen && length <= MaxLongPacketLength {
					pn, _ := ReadPacketNumber(pkt[h.PNOffset:], pnLen)
					enc, err := AppendLongHeader(nil, &h, pn, pnLen, length)
					if err != nil {
						t.Fatalf("re-encode: %v", err)
					}
					again, err := ParseHeader(append(enc, pkt[h.PNOffset+pnLen:]...), 0)
					if err != nil || again.Type != h.Type || !bytes.Equal(again.DCID, h.DCID) ||
						!bytes.Equal(again.SCID, h.SCID) || !bytes.Equal(again.Token, h.Token) ||
						again.PacketLen-again.PNOffset != length {
						t.Fatalf("re-encoded header differs: %v %+v vs %+v", err, again, h)
					}
				}
			}
			rest = r
		}
	})
}

func FuzzTransportParameters(f *testing.F) {
	f.Add(irohClientParams(), false)
	p := DefaultTransportParameters()
	p.OriginalDestinationConnectionID, p.HasOriginalDestinationConnectionID = []byte{1}, true
	p.PreferredAddress = &PreferredAddress{ConnID: []byte{1}}
	p.HasStatelessResetToken = true
	f.Add(p.Marshal(nil), true)
	f.Fuzz(func(t *testing.T, b []byte, server bool) {
		role := RoleClient
		if server {
			role = RoleServer
		}
		p, err := UnmarshalTransportParameters(b, role)
		if err != nil {
			return
		}
		again, err := UnmarshalTransportParameters(p.Marshal(nil), role)
		if err != nil {
			t.Fatalf("re-marshaled parameters rejected: %v", err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip changed parameters\n got %+v\nwant %+v", again, p)
		}
	})
}
