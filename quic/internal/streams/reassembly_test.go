package streams

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

type piece struct {
	off  uint64
	data []byte
}

// shuffledPieces cuts src into overlapping random pieces, adds duplicates
// and shuffles them.
func shuffledPieces(rng *rand.Rand, src []byte) []piece {
	var ps []piece
	for off := 0; off < len(src); {
		n := 1 + rng.IntN(3000)
		end := min(off+n, len(src))
		start := off
		if start > 0 && rng.IntN(3) == 0 { // overlap the previous piece
			start -= rng.IntN(min(start, 500) + 1)
		}
		ps = append(ps, piece{uint64(start), src[start:end]})
		if rng.IntN(5) == 0 { // duplicate
			ps = append(ps, piece{uint64(start), src[start:end]})
		}
		off = end
	}
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	return ps
}

func TestReassemblyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := 0; round < 50; round++ {
		src := make([]byte, 1+rng.IntN(200_000))
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		var r reassembler
		var out []byte
		buf := make([]byte, 1+rng.IntN(10_000))
		for _, p := range shuffledPieces(rng, src) {
			// Hand in a copy that we then scribble over: push must copy.
			cp := bytes.Clone(p.data)
			if _, err := r.push(p.off, cp); err != nil {
				t.Fatal(err)
			}
			clear(cp)
			if rng.IntN(2) == 0 {
				n := r.read(buf)
				out = append(out, buf[:n]...)
			}
		}
		for {
			n := r.read(buf)
			if n == 0 {
				break
			}
			out = append(out, buf[:n]...)
		}
		if !bytes.Equal(out, src) {
			t.Fatalf("round %d: reassembled %d bytes, want %d (equal prefix %v)", round, len(out), len(src), bytes.HasPrefix(src, out))
		}
		if r.bufferedBlocks() != 0 || len(r.ranges) != 0 {
			t.Fatalf("round %d: leftover state: %d blocks, ranges %v", round, r.bufferedBlocks(), r.ranges)
		}
	}
}

func TestReassemblyFragmentationLimit(t *testing.T) {
	var r reassembler
	for i := 0; i < maxRanges; i++ {
		if _, err := r.push(uint64(2*i+1), []byte{1}); err != nil {
			t.Fatalf("piece %d: %v", i, err)
		}
	}
	if _, err := r.push(uint64(2*maxRanges+1), []byte{1}); err != errTooFragmented {
		t.Fatalf("want errTooFragmented, got %v", err)
	}
	// Filling a hole is always fine: it merges ranges.
	if _, err := r.push(0, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if got := r.readable(); got != 2 {
		t.Fatalf("readable %d, want 2", got)
	}
}

func recvFor(window uint64) *recvStream {
	return newRecvStream(NewStreamID(Client, Uni, 0), window, window)
}

func wantCode(t *testing.T, err error, code TransportErrorCode) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Code != code {
		t.Fatalf("want %v, got %v", code, err)
	}
}

func TestRecvFinalSizeRules(t *testing.T) {
	r := recvFor(1000)
	if _, err := r.onData(0, make([]byte, 100), false); err != nil {
		t.Fatal(err)
	}
	_, err := r.onData(0, make([]byte, 50), true) // fin below received data
	wantCode(t, err, FinalSizeError)
	if _, err := r.onData(100, make([]byte, 10), true); err != nil {
		t.Fatal(err)
	}
	_, err = r.onData(110, []byte{1}, false) // beyond final size
	wantCode(t, err, FinalSizeError)
	_, err = r.onData(100, make([]byte, 5), true) // different final size
	wantCode(t, err, FinalSizeError)
	_, err = r.onReset(0, 111)
	wantCode(t, err, FinalSizeError)
	if _, err := r.onData(50, make([]byte, 60), true); err != nil { // same final size again
		t.Fatal(err)
	}
	if r.state != RecvDataRecvd {
		t.Fatalf("state %v", r.state)
	}
}

func TestRecvFlowControlViolation(t *testing.T) {
	r := recvFor(1000)
	if _, err := r.onData(999, []byte{1}, false); err != nil {
		t.Fatal(err)
	}
	_, err := r.onData(1000, []byte{1}, false)
	wantCode(t, err, FlowControlError)
	_, err = r.onReset(0, 1001)
	wantCode(t, err, FlowControlError)
	_, err = r.onData(MaxVarint, []byte{1}, false)
	wantCode(t, err, FlowControlError)
}

func TestRecvResetDeliversError(t *testing.T) {
	r := recvFor(1000)
	r.onData(0, []byte("hello"), false)
	res, err := r.onReset(42, 20)
	if err != nil {
		t.Fatal(err)
	}
	if !res.wasReset || res.newBytes != 15 || res.freed != 20 {
		t.Fatalf("result %+v", res)
	}
	_, err = r.read(make([]byte, 10))
	re, ok := err.(*ResetError)
	if !ok || re.Code != 42 {
		t.Fatalf("want ResetError 42, got %v", err)
	}
	if !r.done() {
		t.Fatal("reset stream not done after the app saw it")
	}
}
