package relayproto

import (
	"bytes"
	"errors"
	"testing"
)

// invalidID is y = 2, which is not the y coordinate of any curve point.
var invalidID = [EndpointIDLen]byte{2}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestValidEndpointID(t *testing.T) {
	_, pub := k1(t)
	if !ValidEndpointID(&pub) {
		t.Error("K1 rejected")
	}
	if ValidEndpointID(&invalidID) {
		t.Error("y=2 accepted")
	}
	identity := [EndpointIDLen]byte{1} // small order, but a valid point: iroh accepts it as an id
	if !ValidEndpointID(&identity) {
		t.Error("identity point rejected")
	}
}

func TestParseFrameRejects(t *testing.T) {
	_, id := k1(t)
	k := id[:]
	bad := invalidID[:]
	big := make([]byte, MaxPacketSize+1)
	cases := []struct {
		name string
		b    []byte
		v    Version
		dir  Direction
		want error
	}{
		{"empty", nil, V2, RelayToClient, ErrTruncatedFrameType},
		{"truncated 2-byte type", []byte{0x40}, V2, RelayToClient, ErrTruncatedFrameType},
		{"truncated 8-byte type", []byte{0xc0, 0, 0, 0, 0, 0, 0}, V2, ClientToRelay, ErrTruncatedFrameType},
		{"type 14", []byte{0x0e}, V2, RelayToClient, ErrUnknownFrameType},
		{"type 63", []byte{0x3f}, V2, ClientToRelay, ErrUnknownFrameType},
		{"type 14 two bytes", []byte{0x40, 0x0e}, V1, RelayToClient, ErrUnknownFrameType},
		{"huge type", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, V1, RelayToClient, ErrUnknownFrameType},
		{"bad version", []byte{9, 0, 0, 0, 0, 0, 0, 0, 0}, 3, RelayToClient, ErrUnknownVersion},
		{"bad direction", []byte{9, 0, 0, 0, 0, 0, 0, 0, 0}, V2, 0, ErrUnexpectedFrameType},

		{"oversize ping", cat([]byte{9}, big), V2, RelayToClient, ErrFrameTooLarge},
		{"oversize datagram", cat([]byte{4}, k, big[:MaxPacketSize-31]), V2, ClientToRelay, ErrFrameTooLarge},
		{"oversize unexpected type", cat([]byte{6}, big), V2, ClientToRelay, ErrFrameTooLarge},

		{"relay gets ServerChallenge", cat([]byte{0}, make([]byte, 16)), V2, ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets ClientAuth", []byte{1}, V2, ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets datagram to client", cat([]byte{6}, k, []byte{0, 1}), V2, ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets EndpointGone", cat([]byte{8}, k), V1, ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets Health", []byte{11}, V1, ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets Restarting", make([]byte, 9), V1, ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets Status", []byte{13, 0}, V2, ClientToRelay, ErrUnexpectedFrameType},
		{"client gets ServerConfirmsAuth", []byte{2}, V2, RelayToClient, ErrUnexpectedFrameType},
		{"client gets datagram to relay", cat([]byte{4}, k, []byte{0, 1}), V2, RelayToClient, ErrUnexpectedFrameType},
		{"client gets batch to relay", cat([]byte{5}, k, []byte{0, 0, 1, 1}), V1, RelayToClient, ErrUnexpectedFrameType},
		{"v2 client gets Health", []byte{11, 'h', 'i'}, V2, RelayToClient, ErrFrameNotAllowedInVersion},
		{"v1 client gets Status", []byte{13, 1}, V1, RelayToClient, ErrFrameNotAllowedInVersion},

		{"short ping", []byte{9, 1, 2, 3, 4, 5, 6, 7}, V2, ClientToRelay, ErrWrongLength},
		{"long ping", []byte{9, 1, 2, 3, 4, 5, 6, 7, 8, 9}, V2, RelayToClient, ErrWrongLength},
		{"short pong", []byte{10}, V1, ClientToRelay, ErrWrongLength},
		{"long pong", make10(10, 9), V1, RelayToClient, ErrWrongLength},
		{"short EndpointGone", cat([]byte{8}, k[:31]), V2, RelayToClient, ErrWrongLength},
		{"long EndpointGone", cat([]byte{8}, k, []byte{0}), V2, RelayToClient, ErrWrongLength},
		{"invalid EndpointGone", cat([]byte{8}, bad), V2, RelayToClient, ErrInvalidEndpointID},
		{"short Restarting", make10(12, 7), V2, RelayToClient, ErrWrongLength},
		{"long Restarting", make10(12, 9), V1, RelayToClient, ErrWrongLength},
		{"empty Status", []byte{13}, V2, RelayToClient, ErrTruncated},
		{"invalid UTF-8 Health", []byte{11, 0xff, 0xfe}, V1, RelayToClient, ErrInvalidUTF8},

		{"datagram without id", []byte{4}, V2, ClientToRelay, ErrTruncated},
		{"batch without id", []byte{5}, V2, ClientToRelay, ErrTruncated},
		{"datagram with short id", cat([]byte{6}, k[:31]), V2, RelayToClient, ErrTruncated},
		{"datagram without ECN", cat([]byte{4}, k), V2, ClientToRelay, ErrTruncated},
		{"invalid id checked before length", cat([]byte{4}, bad), V2, ClientToRelay, ErrInvalidEndpointID},
		{"datagram with invalid id", cat([]byte{6}, bad, []byte{0, 1}), V2, RelayToClient, ErrInvalidEndpointID},
		{"batch with invalid id", cat([]byte{7}, bad, []byte{0, 0, 1, 1}), V2, RelayToClient, ErrInvalidEndpointID},
		{"batch without segment size", cat([]byte{5}, k, []byte{0}), V2, ClientToRelay, ErrTruncated},
		{"batch with half segment size", cat([]byte{7}, k, []byte{0, 0}), V2, RelayToClient, ErrTruncated},
	}
	for _, c := range cases {
		f, err := ParseFrame(c.b, c.v, c.dir)
		if !errors.Is(err, c.want) || f != nil {
			t.Errorf("%s: ParseFrame = %v, %v; want %v", c.name, f, err, c.want)
		}
		var p Parser
		if f, err := p.Parse(c.b, c.v, c.dir); !errors.Is(err, c.want) || f != nil {
			t.Errorf("%s: Parser.Parse = %v, %v; want %v", c.name, f, err, c.want)
		}
	}
}

func make10(typ byte, n int) []byte { return append([]byte{typ}, make([]byte, n)...) }

// TestParseFrameLenient covers what iroh accepts although it looks odd.
func TestParseFrameLenient(t *testing.T) {
	_, id := k1(t)
	k := id[:]
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}

	// Non-minimal type varints.
	for _, typ := range [][]byte{{0x40, 9}, {0x80, 0, 0, 9}, {0xc0, 0, 0, 0, 0, 0, 0, 9}} {
		f, err := ParseFrame(cat(typ, data), V2, ClientToRelay)
		if p, ok := f.(*Ping); err != nil || !ok || !bytes.Equal(p.Data[:], data) {
			t.Errorf("type %x: %#v, %v", typ, f, err)
		}
	}
	// ECN high bits are masked off.
	f, err := ParseFrame(cat([]byte{4}, k, []byte{0xfe, 'x'}), V1, ClientToRelay)
	if d, ok := f.(*ClientToRelayDatagram); err != nil || !ok || d.ECN != ECT0 {
		t.Errorf("ECN 0xfe: %#v, %v", f, err)
	}
	// Empty datagrams decode (the relay should drop them).
	f, err = ParseFrame(cat([]byte{6}, k, []byte{3}), V2, RelayToClient)
	if d, ok := f.(*RelayToClientDatagram); err != nil || !ok || len(d.Payload) != 0 || d.ECN != CE {
		t.Errorf("empty datagram: %#v, %v", f, err)
	}
	f, err = ParseFrame(cat([]byte{5}, k, []byte{2, 0, 9}), V2, ClientToRelay)
	if d, ok := f.(*ClientToRelayDatagramBatch); err != nil || !ok || len(d.Payload) != 0 || d.SegmentSize != 9 {
		t.Errorf("empty batch: %#v, %v", f, err)
	}
	// A batch with segment size 0 is a single datagram.
	f, err = ParseFrame(cat([]byte{5}, k, []byte{1, 0, 0, 'a', 'b'}), V2, ClientToRelay)
	if d, ok := f.(*ClientToRelayDatagram); err != nil || !ok || string(d.Payload) != "ab" || d.ECN != ECT1 {
		t.Errorf("segment size 0 (to relay): %#v, %v", f, err)
	}
	f, err = ParseFrame(cat([]byte{7}, k, []byte{0, 0, 0, 'a'}), V1, RelayToClient)
	if d, ok := f.(*RelayToClientDatagram); err != nil || !ok || string(d.Payload) != "a" {
		t.Errorf("segment size 0 (to client): %#v, %v", f, err)
	}
	// Largest payloads.
	max1 := make([]byte, MaxPacketSize)
	max1[0] = 0x2a
	copy(max1, k)
	if f, err := ParseFrame(cat([]byte{4}, max1), V2, ClientToRelay); err != nil || len(f.(*ClientToRelayDatagram).Payload) != MaxPacketSize-33 {
		t.Errorf("max datagram: %v", err)
	}
	if f, err := ParseFrame(cat([]byte{11}, bytes.Repeat([]byte{'a'}, MaxPacketSize)), V1, RelayToClient); err != nil || len(f.(*Health).Problem) != MaxPacketSize {
		t.Errorf("max health: %v", err)
	}
	// Status: unknown codes pass, trailing bytes are ignored.
	if f, err := ParseFrame([]byte{13, 0xff, 1, 2}, V2, RelayToClient); err != nil || f.(*Status).Code != 0xff {
		t.Errorf("status 0xff: %#v, %v", f, err)
	}
	// Empty Health is fine.
	if f, err := ParseFrame([]byte{11}, V1, RelayToClient); err != nil || f.(*Health).Problem != "" {
		t.Errorf("empty health: %#v, %v", f, err)
	}
}

func TestAppendRejects(t *testing.T) {
	_, id := k1(t)
	prefix := []byte("keep")
	big := make([]byte, MaxDatagramLen+1)
	cases := []struct {
		name string
		f    Frame
		want error
	}{
		{"empty datagram", &ClientToRelayDatagram{Dst: id}, ErrEmptyDatagram},
		{"empty batch", &RelayToClientDatagramBatch{Src: id, SegmentSize: 3}, ErrEmptyDatagram},
		{"zero segment size c2r", &ClientToRelayDatagramBatch{Dst: id, Payload: []byte{1}}, ErrZeroSegmentSize},
		{"zero segment size r2c", &RelayToClientDatagramBatch{Src: id, Payload: []byte{1}}, ErrZeroSegmentSize},
		{"ECN 4", &RelayToClientDatagram{Src: id, ECN: 4, Payload: []byte{1}}, ErrInvalidECN},
		{"oversize datagram", &ClientToRelayDatagram{Dst: id, Payload: big}, ErrFrameTooLarge},
		{"oversize batch", &ClientToRelayDatagramBatch{Dst: id, SegmentSize: 1200, Payload: big[:MaxBatchLen+1]}, ErrFrameTooLarge},
		{"oversize health", &Health{Problem: string(bytes.Repeat([]byte{'a'}, MaxPacketSize))}, ErrFrameTooLarge},
		{"invalid UTF-8 health", &Health{Problem: "\xff"}, ErrInvalidUTF8},
		{"invalid UTF-8 reason", &ServerDeniesAuth{Reason: "\xc0"}, ErrInvalidUTF8},
		{"reason too long", &ServerDeniesAuth{Reason: string(make([]byte, MaxFrameSize))}, ErrReasonTooLong},
	}
	for _, c := range cases {
		got, err := AppendFrame(prefix, c.f)
		if !errors.Is(err, c.want) || string(got) != "keep" {
			t.Errorf("%s: AppendFrame = %q, %v; want %v", c.name, got, err, c.want)
		}
	}
	// Exactly at the limits is fine.
	for _, f := range []Frame{
		&ClientToRelayDatagram{Dst: id, Payload: big[:MaxDatagramLen]},
		&RelayToClientDatagramBatch{Src: id, SegmentSize: 1200, Payload: big[:MaxBatchLen]},
		&Health{Problem: string(bytes.Repeat([]byte{'a'}, MaxPacketSize-1))},
	} {
		got, err := AppendFrame(nil, f)
		if err != nil || len(got) != MaxPacketSize || f.EncodedLen() != MaxPacketSize {
			t.Errorf("%v at limit: len %d, %v", f.Type(), len(got), err)
		}
	}
}

func TestAppendFrameFor(t *testing.T) {
	_, id := k1(t)
	prefix := []byte("keep")
	cases := []struct {
		name string
		f    Frame
		v    Version
		dir  Direction
		want error
	}{
		{"health to v2", &Health{Problem: "x"}, V2, RelayToClient, ErrFrameNotAllowedInVersion},
		{"status to v1", &Status{}, V1, RelayToClient, ErrFrameNotAllowedInVersion},
		{"status to relay", &Status{}, V2, ClientToRelay, ErrUnexpectedFrameType},
		{"relay datagram to relay", &RelayToClientDatagram{Src: id, Payload: []byte{1}}, V2, ClientToRelay, ErrUnexpectedFrameType},
		{"client datagram to client", &ClientToRelayDatagram{Dst: id, Payload: []byte{1}}, V1, RelayToClient, ErrUnexpectedFrameType},
		{"gone to relay", &EndpointGone{EndpointID: id}, V2, ClientToRelay, ErrUnexpectedFrameType},
		{"handshake frame after handshake", &ServerConfirmsAuth{}, V2, RelayToClient, ErrUnexpectedFrameType},
		{"unknown version", &Ping{}, 0, ClientToRelay, ErrUnknownVersion},
	}
	for _, c := range cases {
		got, err := AppendFrameFor(prefix, c.f, c.v, c.dir)
		if !errors.Is(err, c.want) || string(got) != "keep" {
			t.Errorf("%s: AppendFrameFor = %q, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestParseHandshakeFrameRejects(t *testing.T) {
	priv, pub := k1(t)
	auth, err := SignChallenge(signer(priv), pub, [16]byte{})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := auth.Append(nil)
	withLen := func(lenBytes ...byte) []byte {
		return cat(good[:33], lenBytes, good[34:])
	}
	cases := []struct {
		name string
		b    []byte
		dir  Direction
		want error
	}{
		{"empty", nil, RelayToClient, ErrTruncatedFrameType},
		{"unknown type", []byte{14}, RelayToClient, ErrUnknownFrameType},
		{"relay frame in handshake", make10(9, 8), RelayToClient, ErrUnexpectedFrameType},
		{"client gets ClientAuth", good, RelayToClient, ErrUnexpectedFrameType},
		{"relay gets ServerChallenge", make10(0, 16), ClientToRelay, ErrUnexpectedFrameType},
		{"relay gets confirm", []byte{2}, ClientToRelay, ErrUnexpectedFrameType},
		{"bad direction", []byte{2}, 7, ErrUnexpectedFrameType},
		{"short challenge", make10(0, 15), RelayToClient, ErrTruncated},
		{"ClientAuth short key", good[:32], ClientToRelay, ErrTruncated},
		{"ClientAuth no sig length", good[:33], ClientToRelay, ErrTruncated},
		{"ClientAuth short sig", good[:97], ClientToRelay, ErrTruncated},
		{"ClientAuth sig length 63", withLen(63), ClientToRelay, ErrBadSignatureLength},
		{"ClientAuth sig length 65", withLen(65), ClientToRelay, ErrBadSignatureLength},
		{"ClientAuth sig length 192 (non-minimal 64 with bit)", withLen(0xc0, 0x01), ClientToRelay, ErrBadSignatureLength},
		{"ClientAuth varint too long", withLen(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ClientToRelay, ErrBadVarint},
		{"ClientAuth varint overflow", withLen(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), ClientToRelay, ErrBadVarint},
		{"ClientAuth invalid key", cat([]byte{1}, invalidID[:], good[33:]), ClientToRelay, ErrInvalidEndpointID},
		{"deny without length", []byte{3}, RelayToClient, ErrTruncated},
		{"deny short reason", []byte{3, 5, 'a', 'b'}, RelayToClient, ErrTruncated},
		{"deny huge length", []byte{3, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}, RelayToClient, ErrTruncated},
		{"deny invalid UTF-8", []byte{3, 2, 0xc3, 0x28}, RelayToClient, ErrInvalidUTF8},
	}
	for _, c := range cases {
		f, err := ParseHandshakeFrame(c.b, c.dir)
		if !errors.Is(err, c.want) || f != nil {
			t.Errorf("%s: ParseHandshakeFrame = %#v, %v; want %v", c.name, f, err, c.want)
		}
	}

	// Postcard leniency: trailing bytes and non-minimal varints.
	lenient := []struct {
		name string
		b    []byte
		dir  Direction
	}{
		{"challenge + trailing", make10(0, 20), RelayToClient},
		{"confirm + trailing", []byte{2, 1, 2}, RelayToClient},
		{"deny + trailing", []byte{3, 1, 'x', 'y'}, RelayToClient},
		{"deny non-minimal length", []byte{3, 0x81, 0x00, 'x'}, RelayToClient},
		{"ClientAuth + trailing", cat(good, []byte{0}), ClientToRelay},
		{"ClientAuth non-minimal 64", withLen(0xc0, 0x00), ClientToRelay},
		{"ClientAuth 10-byte 64", withLen(0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), ClientToRelay},
		{"ClientAuth non-minimal type", cat([]byte{0x40}, good), ClientToRelay},
	}
	for _, c := range lenient {
		f, err := ParseHandshakeFrame(c.b, c.dir)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if a, ok := f.(*ClientAuth); ok && *a != *auth {
			t.Errorf("%s: got %#v", c.name, a)
		}
	}
}

func TestAllowedMatrix(t *testing.T) {
	c2r := map[FrameType]bool{4: true, 5: true, 9: true, 10: true}
	r2c := map[FrameType]bool{6: true, 7: true, 8: true, 9: true, 10: true, 12: true}
	for typ := FrameType(0); typ < 20; typ++ {
		for _, v := range []Version{V1, V2} {
			if got := Allowed(typ, v, ClientToRelay); got != c2r[typ] {
				t.Errorf("Allowed(%v, %v, c2r) = %v", typ, v, got)
			}
			want := r2c[typ] || (typ == TypeHealth && v == V1) || (typ == TypeStatus && v == V2)
			if got := Allowed(typ, v, RelayToClient); got != want {
				t.Errorf("Allowed(%v, %v, r2c) = %v", typ, v, got)
			}
		}
		if Allowed(typ, 0, RelayToClient) || Allowed(typ, V2, 0) {
			t.Errorf("Allowed(%v) true for invalid version or direction", typ)
		}
		if got := AllowedInHandshake(typ, ClientToRelay); got != (typ == 1) {
			t.Errorf("AllowedInHandshake(%v, c2r) = %v", typ, got)
		}
		if got := AllowedInHandshake(typ, RelayToClient); got != (typ == 0 || typ == 2 || typ == 3) {
			t.Errorf("AllowedInHandshake(%v, r2c) = %v", typ, got)
		}
	}
}
