package core

import (
	"bytes"
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
