package streams

import (
	"math/rand/v2"
	"testing"
)

// bitmapSet is a brute-force model of rangeSet over a small universe.
type bitmapSet [256]bool

func (b *bitmapSet) check(t *testing.T, r rangeSet) {
	t.Helper()
	var got bitmapSet
	for i, s := range r {
		if s.start >= s.end {
			t.Fatalf("empty span %v in %v", s, r)
		}
		if i > 0 && r[i-1].end >= s.start {
			t.Fatalf("spans not disjoint/non-adjacent: %v", r)
		}
		for x := s.start; x < s.end; x++ {
			got[x] = true
		}
	}
	if got != *b {
		t.Fatalf("set mismatch: %v", r)
	}
}

func TestRangeSetAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var r rangeSet
		var model bitmapSet
		for op := 0; op < 60; op++ {
			a := rng.Uint64N(250)
			b := a + rng.Uint64N(256-a)
			if rng.IntN(3) == 0 {
				r.remove(a, b)
				for x := a; x < b; x++ {
					model[x] = false
				}
			} else {
				r.add(a, b)
				for x := a; x < b; x++ {
					model[x] = true
				}
			}
			model.check(t, r)
			c := rng.Uint64N(250)
			d := c + rng.Uint64N(256-c)
			want := true
			for x := c; x < d; x++ {
				want = want && model[x]
			}
			if got := r.contains(c, d); got != want {
				t.Fatalf("contains(%d,%d)=%v want %v in %v", c, d, got, want, r)
			}
		}
	}
}
