package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
)

// sampleFrames has one frame of every type, with values that need
// multi-byte varints.
func sampleFrames() []Frame {
	tok := [ResetTokenLen]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	ranges := []AckRange{{Smallest: 90, Largest: 100}, {Smallest: 50, Largest: 70}, {Smallest: 0, Largest: 0}}
	v4 := netip.MustParseAddrPort("192.0.2.7:7777")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:443")
	return []Frame{
		{Type: FramePadding, PaddingLen: 3},
		{Type: FramePing},
		{Type: FrameAck, AckDelay: 300, AckRanges: ranges},
		{Type: FrameAckECN, AckDelay: 1, AckRanges: ranges[:1], ECT0: 5, ECT1: 1 << 20, ECNCE: 2},
		{Type: FrameResetStream, StreamID: 4, ErrorCode: 0x100, FinalSize: 1 << 33},
		{Type: FrameStopSending, StreamID: 8, ErrorCode: 7},
		{Type: FrameCrypto, Offset: 1000, Data: []byte("client hello")},
		{Type: FrameNewToken, Token: []byte("address validation")},
		{Type: FrameStream, StreamID: 0, Data: []byte("no offset")},
		{Type: FrameStream, StreamID: 3, Offset: 70000, Data: []byte("with offset"), Fin: true},
		{Type: FrameStream, StreamID: 5, Offset: 1, Data: []byte("last in packet"), OmitLength: true},
		{Type: FrameStream, StreamID: 9, Fin: true},
		{Type: FrameMaxData, Limit: MaxVarint},
		{Type: FrameMaxStreamData, StreamID: 2, Limit: 1250000},
		{Type: FrameMaxStreamsBidi, Limit: 100},
		{Type: FrameMaxStreamsUni, Limit: MaxStreamCount},
		{Type: FrameDataBlocked, Limit: 17},
		{Type: FrameStreamDataBlocked, StreamID: 6, Limit: 99},
		{Type: FrameStreamsBlockedBidi, Limit: 3},
		{Type: FrameStreamsBlockedUni, Limit: 4},
		{Type: FrameNewConnectionID, Sequence: 4, RetirePriorTo: 2, ConnID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, ResetToken: tok},
		{Type: FrameRetireConnectionID, Sequence: 3},
		{Type: FramePathChallenge, PathData: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{Type: FramePathResponse, PathData: [8]byte{8, 7, 6, 5, 4, 3, 2, 1}},
		{Type: FrameConnectionClose, ErrorCode: uint64(ProtocolViolation), ClosingFrameType: FrameStream | 2, Reason: []byte("bad")},
		{Type: FrameApplicationClose, ErrorCode: 0, Reason: []byte("spoke done")},
		{Type: FrameHandshakeDone},
		{Type: FrameDatagram, Data: []byte("datagram")},
		{Type: FrameDatagram, Data: []byte("unframed"), OmitLength: true},
		{Type: FrameImmediateAck},
		{Type: FrameAckFrequency, Sequence: 1, AckElicitingThreshold: 10, RequestMaxAckDelay: 25000, ReorderingThreshold: 1},
		{Type: FramePathAck, PathID: 1, AckDelay: 8, AckRanges: ranges[:2]},
		{Type: FramePathAckECN, PathID: 0, AckDelay: 4, AckRanges: []AckRange{{Smallest: 21, Largest: 25}}, ECT0: 19},
		{Type: FramePathAbandon, PathID: 1, ErrorCode: uint64(ApplicationAbandonPath)},
		{Type: FramePathStatusBackup, PathID: 2, Sequence: 1},
		{Type: FramePathStatusAvailable, PathID: 0, Sequence: 2},
		{Type: FramePathNewConnectionID, PathID: 7, Sequence: 4, ConnID: make([]byte, 20), ResetToken: tok},
		{Type: FramePathRetireConnectionID, PathID: 0, Sequence: 0},
		{Type: FrameMaxPathID, PathID: 8},
		{Type: FramePathsBlocked, PathID: MaxPathID},
		{Type: FramePathCIDsBlocked, PathID: 3, Sequence: 5},
		{Type: FrameAddAddressIPv4, Sequence: 0, Addr: v4},
		{Type: FrameAddAddressIPv6, Sequence: 1, Addr: v6},
		{Type: FrameReachOutIPv4, Sequence: 1, Addr: v4},
		{Type: FrameReachOutIPv6, Sequence: 2, Addr: v6},
		{Type: FrameRemoveAddress, Sequence: 1},
		{Type: FrameObservedAddressIPv4, Sequence: 9, Addr: v4},
		{Type: FrameObservedAddressIPv6, Sequence: 10, Addr: v6},
	}
}

// normalized returns f with parse-only details folded into public fields so
// built and parsed frames compare equal.
func normalized(f Frame) Frame {
	if f.IsAck() && f.AckRanges == nil {
		f.AckRanges = f.AppendAckRanges(nil)
	}
	f.ackLargest, f.ackFirstRange, f.ackRangeCount, f.ackGaps = 0, 0, 0, nil
	for _, s := range []*[]byte{&f.Data, &f.Token, &f.Reason, &f.ConnID} {
		if len(*s) == 0 {
			*s = nil
		}
	}
	return f
}

func TestFrameRoundTrip(t *testing.T) {
	seen := map[FrameType]bool{}
	for _, f := range sampleFrames() {
		seen[f.Type] = true
		enc, err := f.Append([]byte{0xaa})
		if err != nil {
			t.Fatalf("%s: %v", f.Type, err)
		}
		enc = enc[1:]
		if f.Len() != len(enc) {
			t.Errorf("%s: Len %d, encoded %d", f.Type, f.Len(), len(enc))
		}
		got, n, err := Parse(enc)
		if err != nil || n != len(enc) {
			t.Fatalf("%s: Parse = %d, %v", f.Type, n, err)
		}
		if !reflect.DeepEqual(normalized(got), normalized(f)) {
			t.Errorf("%s:\n got %+v\nwant %+v", f.Type, normalized(got), normalized(f))
		}
		// Parsed frames re-encode to the same bytes.
		if again, _ := got.Append(nil); !bytes.Equal(again, enc) || got.Len() != len(enc) {
			t.Errorf("%s: re-encoded %x, want %x", f.Type, again, enc)
		}
		// Every strict prefix fails, unless the frame is self-delimiting
		// at its end (no length field, or padding).
		if f.Type == FramePadding || f.OmitLength {
			continue
		}
		for i := range enc {
			if _, _, err := Parse(enc[:i]); err == nil {
				t.Errorf("%s: prefix of %d bytes parsed", f.Type, i)
			} else if !errors.Is(err, &TransportError{Code: FrameEncodingError}) {
				t.Errorf("%s: prefix error %v", f.Type, err)
			}
		}
	}
	for ft := range frameTypeNames {
		if !seen[ft] {
			t.Errorf("no sample for %s", ft)
		}
	}
}

func TestAckRanges(t *testing.T) {
	f := Frame{Type: FrameAck, AckRanges: []AckRange{{10, 12}, {5, 7}, {1, 1}}}
	enc, err := f.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	// type, largest 12, delay 0, 2 more ranges, first range 2, gap 1 len 2, gap 2 len 0.
	if want := []byte{0x02, 12, 0, 2, 2, 1, 2, 2, 0}; !bytes.Equal(enc, want) {
		t.Fatalf("encoded %x, want %x", enc, want)
	}
	p, _, err := Parse(enc)
	if err != nil || p.LargestAcked() != 12 || p.AckRangeCount() != 3 {
		t.Fatalf("parsed %+v %v", p, err)
	}
	for _, bad := range [][]AckRange{
		{},                   // nothing acknowledged
		{{5, 4}},             // inverted
		{{10, 12}, {9, 9}},   // adjacent: no gap
		{{10, 12}, {11, 20}}, // not descending
		{{0, MaxVarint + 1}}, // too large
	} {
		f := Frame{Type: FrameAck, AckRanges: bad}
		if _, err := f.Append(nil); !errors.Is(err, ErrInvalidFrame) || f.Len() != -1 {
			t.Errorf("ranges %v accepted", bad)
		}
	}
}

func TestFrameRejections(t *testing.T) {
	fee := &TransportError{Code: FrameEncodingError}
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"unknown type":              {[]byte{0x21}, fee},
		"RESET_STREAM_AT":           {[]byte{0x24, 0, 0, 0, 0}, fee},
		"unknown 2-byte type":       {[]byte{0x40, 0x40}, fee},
		"non-minimal type":          {[]byte{0x40, 0x01}, &TransportError{Code: ProtocolViolation}},
		"empty":                     {nil, fee},
		"ack first range > largest": {[]byte{0x02, 5, 0, 0, 6}, fee},
		"ack gap underflow":         {[]byte{0x02, 5, 0, 1, 0, 4, 0}, fee},
		"ack range underflow":       {[]byte{0x02, 5, 0, 1, 0, 1, 3}, fee},
		"ack huge range count":      {[]byte{0x02, 5, 0, 0x80, 0xff, 0xff, 0xff, 0}, fee},
		"crypto beyond 2^62":        {append([]byte{0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2}, 1, 2), fee},
		"stream beyond 2^62":        {append([]byte{0x0e, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, 9), fee},
		"stream length too long":    {[]byte{0x0a, 0, 5, 1, 2}, fee},
		"empty NEW_TOKEN":           {[]byte{0x07, 0}, fee},
		"MAX_STREAMS above 2^60":    {[]byte{0x12, 0xd0, 0, 0, 0, 0, 0, 0, 1}, fee},
		"STREAMS_BLOCKED above":     {[]byte{0x17, 0xd0, 0, 0, 0, 0, 0, 0, 1}, fee},
		"NCID zero-length CID":      {append([]byte{0x18, 1, 0, 0}, make([]byte, 16)...), fee},
		"NCID 21-byte CID":          {append([]byte{0x18, 1, 0, 21}, make([]byte, 37)...), fee},
		"NCID retire > seq":         {append([]byte{0x18, 1, 2, 1, 9}, make([]byte, 16)...), fee},
		"path ID above u32":         {[]byte{0x7e, 0x7a, 0xc0, 0, 0, 1, 0, 0, 0, 0}, fee},
		"close reason too long":     {[]byte{0x1d, 0, 9, 'x'}, fee},
		"datagram too long":         {[]byte{0x31, 3, 1}, fee},
		"short ADD_ADDRESS":         {[]byte{0x80, 0x3d, 0x7f, 0x90, 0, 127, 0, 0, 1, 0x1e}, fee},
	}
	for name, c := range cases {
		_, _, err := Parse(c.b)
		var te *TransportError
		if !errors.As(err, &te) || !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want code %v", name, err, c.want.(*TransportError).Code)
		}
	}
	// The offending frame type is reported.
	_, _, err := Parse([]byte{0x21})
	if te := (*TransportError)(nil); !errors.As(err, &te) || te.FrameType != 0x21 {
		t.Errorf("frame type not reported: %v", err)
	}

	for _, f := range []Frame{
		{Type: FrameNewConnectionID, ConnID: make([]byte, 21)},
		{Type: FrameNewConnectionID, Sequence: 1, RetirePriorTo: 2, ConnID: []byte{1}},
		{Type: FramePathAbandon, PathID: MaxPathID + 1},
		{Type: FrameMaxData, Limit: MaxVarint + 1},
		{Type: FrameNewToken},
		{Type: FramePadding},
		{Type: FrameAddAddressIPv4, Addr: netip.MustParseAddrPort("[::1]:1")},
		{Type: FrameReachOutIPv6, Addr: netip.MustParseAddrPort("1.2.3.4:1")},
		{Type: 0x21},
	} {
		if _, err := f.Append(nil); !errors.Is(err, ErrInvalidFrame) {
			t.Errorf("%s %+v encoded", f.Type, f)
		}
	}
}

// RFC 9000 Table 3 spot checks plus the extension rules.
func TestAllowedIn(t *testing.T) {
	const (
		I = 1 << iota
		Z
		H
		O
	)
	table := map[FrameType]int{
		FramePadding: I | Z | H | O, FramePing: I | Z | H | O, FrameAck: I | H | O, FrameAckECN: I | H | O,
		FrameResetStream: Z | O, FrameStopSending: Z | O, FrameCrypto: I | H | O, FrameNewToken: O,
		FrameStream: Z | O, FrameMaxData: Z | O, FrameMaxStreamData: Z | O, FrameMaxStreamsBidi: Z | O,
		FrameNewConnectionID: Z | O, FrameRetireConnectionID: Z | O, FramePathChallenge: Z | O,
		FramePathResponse: O, FrameConnectionClose: I | Z | H | O, FrameApplicationClose: Z | O,
		FrameHandshakeDone: O, FrameDatagram: Z | O, FrameImmediateAck: Z | O, FrameAckFrequency: Z | O,
		FramePathAck: O, FramePathNewConnectionID: O, FrameMaxPathID: O, FrameAddAddressIPv4: O,
		FrameReachOutIPv6: O, FrameRemoveAddress: O, FrameObservedAddressIPv4: O,
	}
	pts := []PacketType{PacketInitial, Packet0RTT, PacketHandshake, Packet1RTT}
	for ft, set := range table {
		for i, pt := range pts {
			want := set&(1<<i) != 0
			if ft.AllowedIn(pt) != want {
				t.Errorf("%s in %s: got %v", ft, pt, !want)
			}
			err := CheckAllowed(ft, pt)
			if want != (err == nil) || (err != nil && !errors.Is(err, &TransportError{Code: ProtocolViolation})) {
				t.Errorf("CheckAllowed(%s, %s) = %v", ft, pt, err)
			}
		}
		if ft.AllowedIn(PacketRetry) {
			t.Errorf("%s allowed in Retry", ft)
		}
	}
	for ft, eliciting := range map[FrameType]bool{
		FrameAck: false, FramePathAckECN: false, FramePadding: false, FrameConnectionClose: false,
		FrameApplicationClose: false, FramePing: true, FrameImmediateAck: true, FramePathChallenge: true,
		FrameAddAddressIPv6: true, FrameStream: true,
	} {
		if ft.IsAckEliciting() != eliciting {
			t.Errorf("%s ack-eliciting = %v", ft, !eliciting)
		}
	}
	if !FramePathChallenge.IsProbing() || FramePing.IsProbing() {
		t.Error("probing classification wrong")
	}
}

func TestMaxDataLen(t *testing.T) {
	for _, withLen := range []bool{true, false} {
		for space := 0; space < 20000; space += 7 {
			for _, off := range []uint64{0, 1, 1 << 20} {
				n := MaxStreamDataLen(5, off, withLen, space)
				if n < 0 {
					f := Frame{Type: FrameStream, StreamID: 5, Offset: off, OmitLength: !withLen}
					if f.Len() <= space {
						t.Fatalf("space %d: empty frame of %d bytes fits", space, f.Len())
					}
					continue
				}
				f := Frame{Type: FrameStream, StreamID: 5, Offset: off, OmitLength: !withLen, Data: make([]byte, n)}
				if f.Len() > space {
					t.Fatalf("space %d off %d len %v: %d data bytes make %d", space, off, withLen, n, f.Len())
				}
				f.Data = make([]byte, n+1)
				if f.Len() <= space {
					t.Fatalf("space %d off %d len %v: %d bytes would fit too", space, off, withLen, n+1)
				}
			}
			c := MaxCryptoDataLen(300, space)
			f := Frame{Type: FrameCrypto, Offset: 300, Data: make([]byte, max(c, 0))}
			bigger := Frame{Type: FrameCrypto, Offset: 300, Data: make([]byte, c+1)}
			if c >= 0 && (f.Len() > space || bigger.Len() <= space) {
				t.Fatalf("crypto space %d: %d", space, c)
			}
		}
	}
}

func ExampleParse() {
	payload := []byte{0x01, 0x1f, 0x00, 0x00}
	for len(payload) > 0 {
		f, n, err := Parse(payload)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(f.Type, f.Type.IsAckEliciting())
		payload = payload[n:]
	}
	// Output:
	// PING true
	// IMMEDIATE_ACK true
	// PADDING false
}
