package core

import (
	"bytes"
	"github.com/alkdev/irohspoke/quic/internal/wire"
	"math/rand/v2"
	"testing"
)

func TestCryptoRecvReordered(t *testing.T) {
	src := make([]byte, 5000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		type chunk struct{ off, end int }
		var chunks []chunk
		for off := 0; off < len(src); {
			n := 1 + rng.IntN(700)
			end := min(off+n, len(src))
			chunks = append(chunks, chunk{off, end})
			// Overlapping retransmissions.
			if rng.IntN(3) == 0 {
				chunks = append(chunks, chunk{max(0, off-rng.IntN(50)), end})
			}
			off = end
		}
		rng.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })
		var r cryptoRecv
		var got []byte
		for _, c := range chunks {
			out, err := r.push(uint64(c.off), src[c.off:c.end])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out...)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("trial %d: reassembled %d bytes, mismatch", trial, len(got))
		}
	}
}

func TestCryptoRecvLimit(t *testing.T) {
	var r cryptoRecv
	if _, err := r.push(maxCryptoBuffer, []byte{1}); err == nil {
		t.Fatal("data past the buffer limit accepted")
	}
}

func TestCryptoSendLossAndAck(t *testing.T) {
	var s cryptoSend
	s.write(bytes.Repeat([]byte{1}, 3000))
	o1, b1 := s.next(1200)
	o2, b2 := s.next(1200)
	o3, b3 := s.next(1200)
	if o1 != 0 || o2 != 1200 || o3 != 2400 || len(b3) != 600 || s.hasData() {
		t.Fatalf("offsets %d %d %d len %d %d %d", o1, o2, o3, len(b1), len(b2), len(b3))
	}
	s.onAcked(0, 1200)
	s.onLost(1200, 1200)
	s.onLost(0, 1200) // already acked: nothing to resend
	if !s.hasData() {
		t.Fatal("lost data not pending")
	}
	o, b := s.next(500)
	if o != 1200 || len(b) != 500 {
		t.Fatalf("resend %d+%d", o, len(b))
	}
	o, b = s.next(1000)
	if o != 1700 || len(b) != 700 {
		t.Fatalf("resend rest %d+%d", o, len(b))
	}
	s.onAcked(1200, 1200)
	s.onLost(1200, 1200)
	if s.hasData() {
		t.Fatal("acked data queued again")
	}
}

// scatteredPieces is the attack pattern of the security review: one-byte
// CRYPTO pieces, every other byte, newest first, so nothing ever becomes
// contiguous and every piece is a separate hole.
func scatteredPieces(n int) []uint64 {
	offs := make([]uint64, 0, n)
	for i := n; i > 0; i-- {
		offs = append(offs, uint64(2*i))
	}
	return offs
}

// TestCryptoRecvScatteredRefused: the pending pieces are capped, and the
// piece past the cap is refused (CRYPTO_BUFFER_EXCEEDED at the caller),
// rather than stored and rescanned.
func TestCryptoRecvScatteredRefused(t *testing.T) {
	var r cryptoRecv
	for i, off := range scatteredPieces(65534 / 2) {
		_, err := r.push(off, []byte{1})
		if i < maxCryptoHoles {
			if err != nil {
				t.Fatalf("piece %d refused: %v", i, err)
			}
			continue
		}
		if err == nil {
			t.Fatalf("piece %d stored past the cap of %d holes", i, maxCryptoHoles)
		}
		break
	}
	if got := r.buf.Pending(); got != maxCryptoHoles {
		t.Fatalf("%d ranges pending, want %d", got, maxCryptoHoles)
	}
	// Filling the gaps still delivers everything in order.
	var r2 cryptoRecv
	var got []byte
	for i := 20; i >= 0; i-- {
		out, err := r2.push(uint64(2*i), []byte{byte(2 * i)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out...)
	}
	for i := 0; i <= 20; i++ {
		out, _ := r2.push(uint64(2*i+1), []byte{byte(2*i + 1)})
		got = append(got, out...)
	}
	if len(got) != 42 || !bytes.Equal(got[:5], []byte{0, 1, 2, 3, 4}) || got[41] != 41 {
		t.Fatalf("reassembled %v", got)
	}
}

// TestCryptoRecvAdjacentPiecesMerge: pieces that touch merge into one
// range, so a long flight sent byte by byte backwards is no attack.
func TestCryptoRecvAdjacentPiecesMerge(t *testing.T) {
	var r cryptoRecv
	for off := uint64(60000); off > 0; off-- {
		if _, err := r.push(off, []byte{byte(off)}); err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
	}
	out, err := r.push(0, []byte{0})
	if err != nil || len(out) != 60001 || out[60000] != byte(60000%256) {
		t.Fatalf("got %d bytes, %v", len(out), err)
	}
}

// BenchmarkCryptoRecvScattered is the review's probe: 65,534 one-byte
// pieces at scattered offsets into one level. It took 13.3 s of CPU with
// the map-and-rescan buffer; now each piece past the cap is refused.
func BenchmarkCryptoRecvScattered(b *testing.B) {
	pieces := scatteredPieces(65534 / 2)
	one := []byte{1}
	for b.Loop() {
		var r cryptoRecv
		for _, off := range pieces {
			if _, err := r.push(off, one); err != nil {
				break
			}
		}
	}
}

// drainCrypto takes everything s has to send in frames of up to max bytes.
func drainCrypto(s *cryptoSend, max int) []span {
	var out []span
	for s.hasData() {
		off, b := s.next(max)
		out = append(out, span{off, off + uint64(len(b))})
	}
	return out
}

// TestCryptoSendLostTwiceSentOnce: a PTO queues every outstanding flight
// again, and loss detection may then declare the same packets lost; the
// range must still go out once (it was queued twice and sent twice).
func TestCryptoSendLostTwiceSentOnce(t *testing.T) {
	var s cryptoSend
	s.write(bytes.Repeat([]byte{1}, 3000))
	drainCrypto(&s, 1200)
	for _, sp := range []span{{0, 1200}, {1200, 2400}, {2400, 3000}} { // PTO
		s.onLost(sp.off, sp.end-sp.off)
	}
	s.onLost(0, 1200)   // then loss detection
	s.onLost(600, 1200) // and an overlapping copy
	got := drainCrypto(&s, 1200)
	want := []span{{0, 1200}, {1200, 2400}, {2400, 3000}}
	if len(got) != len(want) {
		t.Fatalf("resent %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resent %v, want %v", got, want)
		}
	}
}

// TestCryptoSendAckedHoleNotResent: a range acknowledged in the middle of
// a lost one is left out of the retransmission.
func TestCryptoSendAckedHoleNotResent(t *testing.T) {
	var s cryptoSend
	s.write(bytes.Repeat([]byte{1}, 3000))
	drainCrypto(&s, 3000)
	s.onAcked(1000, 500)
	s.onLost(0, 3000)
	got := drainCrypto(&s, 3000)
	if len(got) != 2 || got[0] != (span{0, 1000}) || got[1] != (span{1500, 3000}) {
		t.Fatalf("resent %v", got)
	}
	s.onLost(0, 3000)
	s.onAcked(0, 3000)
	if s.hasData() {
		t.Fatal("acknowledged data still queued")
	}
}

// TestPTOResendsClientHelloOnce: a client whose Initials all vanish sends
// its ClientHello once per PTO round, not once per copy still outstanding.
func TestPTOResendsClientHelloOnce(t *testing.T) {
	l := newLink(t, 1)
	l.loss = 1
	var round []span
	check := l.client.checkPayload
	l.client.checkPayload = func(lv level, p []byte) {
		check(lv, p)
		for len(p) > 0 && lv == levelInitial {
			var f wire.Frame
			n, err := f.Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type == wire.FrameCrypto {
				round = append(round, span{f.Offset, f.Offset + uint64(len(f.Data))})
			}
			p = p[n:]
		}
	}
	for ptos := 0; ptos < 4; ptos++ {
		round = nil
		l.flush()
		var seen spanSet
		for _, sp := range round {
			for _, s := range seen {
				if s.off < sp.end && sp.off < s.end {
					t.Fatalf("round %d sent CRYPTO %v twice: %v", ptos, sp, round)
				}
			}
			seen.add(sp)
		}
		if len(seen) != 1 || seen[0].off != 0 {
			t.Fatalf("round %d sent CRYPTO %v, want the ClientHello", ptos, round)
		}
		at, ok := l.client.Timeout()
		if !ok {
			t.Fatal("no PTO armed")
		}
		l.now = at
		l.client.HandleTimeout(l.now)
	}
}
