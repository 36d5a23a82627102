package relayproto

import "testing"

// benchSink keeps results alive so that escape analysis behaves as in real use.
var benchSink Frame

func datagram1200(tb testing.TB) (*ClientToRelayDatagram, []byte) {
	_, id := k1(tb)
	f := &ClientToRelayDatagram{Dst: id, ECN: ECT0, Payload: make([]byte, 1200)}
	wire, err := f.Append(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return f, wire
}

func TestParserZeroAlloc(t *testing.T) {
	_, wire := datagram1200(t)
	batch := append([]byte{byte(TypeRelayToClientDatagramBatch)}, wire[1:34]...)
	batch = append(batch, 0x04, 0xb0) // segment size 1200
	batch = append(batch, make([]byte, 2400)...)
	ping := []byte{9, 1, 2, 3, 4, 5, 6, 7, 8}
	var p Parser
	for _, c := range []struct {
		b   []byte
		dir Direction
	}{{wire, ClientToRelay}, {batch, RelayToClient}, {ping, RelayToClient}} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := p.Parse(c.b, V2, c.dir); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Parser.Parse(type %d) allocates %v times", c.b[0], allocs)
		}
	}
	f, _ := datagram1200(t)
	dst := make([]byte, 0, 2048)
	if allocs := testing.AllocsPerRun(100, func() {
		if _, err := f.Append(dst[:0]); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Append into a large enough buffer allocates %v times", allocs)
	}
}

func BenchmarkParserParseDatagram1200(b *testing.B) {
	_, wire := datagram1200(b)
	var p Parser
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(wire, V2, ClientToRelay); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFrameDatagram1200 is the convenience API: one allocation
// for the frame and a key validation on every call (no cache).
func BenchmarkParseFrameDatagram1200(b *testing.B) {
	_, wire := datagram1200(b)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := ParseFrame(wire, V2, ClientToRelay)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = f
	}
}

func BenchmarkAppendDatagram1200(b *testing.B) {
	f, wire := datagram1200(b)
	dst := make([]byte, 0, len(wire))
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = f.Append(dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFrameDatagram1200(b *testing.B) {
	f, wire := datagram1200(b)
	dst := make([]byte, 0, len(wire))
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = AppendFrameFor(dst[:0], f, V2, ClientToRelay); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyClientAuth(b *testing.B) {
	priv, pub := k1(b)
	var ch [ChallengeLen]byte
	auth, err := SignChallenge(signer(priv), pub, ch)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyClientAuth(auth, ch); err != nil {
			b.Fatal(err)
		}
	}
}
