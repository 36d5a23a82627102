package wire

import "testing"

// typicalPayload is a 1-RTT payload as iroh sends it mid-transfer:
// PATH_ACK_ECN with a gap, then a STREAM frame filling a 1200-byte packet.
func typicalPayload(b *testing.B) ([]Frame, []byte) {
	frames := []Frame{
		{Type: FramePathAckECN, PathID: 0, AckDelay: 8, AckRanges: []AckRange{{Smallest: 120, Largest: 130}, {Smallest: 100, Largest: 117}}, ECT0: 130},
		{Type: FrameStream, StreamID: 0, Offset: 123456, Data: make([]byte, 1100)},
	}
	var p []byte
	for i := range frames {
		var err error
		if p, err = frames[i].Append(p); err != nil {
			b.Fatal(err)
		}
	}
	return frames, p
}

func BenchmarkParseTypicalPayload(b *testing.B) {
	_, payload := typicalPayload(b)
	ranges := make([]AckRange, 0, 8)
	var f Frame
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		for p := payload; len(p) > 0; {
			n, err := f.Parse(p)
			if err != nil {
				b.Fatal(err)
			}
			if f.IsAck() {
				ranges = f.AppendAckRanges(ranges[:0])
			}
			p = p[n:]
		}
	}
}

func BenchmarkAppendTypicalPayload(b *testing.B) {
	frames, payload := typicalPayload(b)
	buf := make([]byte, 0, len(payload))
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for i := range frames {
			buf, _ = frames[i].Append(buf)
		}
	}
}
