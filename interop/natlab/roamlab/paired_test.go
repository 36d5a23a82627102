//go:build linux

package roamlab_test

import (
	"testing"
	"time"
)

func TestPairedRatio(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	// Equal pairs: ratio 1, no spread, whatever the level.
	if m, lo, hi := pairedRatio(ms(2, 5, 9), ms(2, 5, 9)); m != 1 || lo != 1 || hi != 1 {
		t.Fatalf("equal pairs: %v [%v, %v]", m, lo, hi)
	}
	// Halves with one outlier: the median holds, the interval brackets it.
	m, lo, hi := pairedRatio(ms(1, 2, 3, 4, 50), ms(2, 4, 6, 8, 10))
	if m != 0.5 || lo > m || hi < m || hi > 5 {
		t.Fatalf("halves: %v [%v, %v]", m, lo, hi)
	}
	// A zero denominator is left out, not divided by.
	if m, _, _ := pairedRatio(ms(3, 4), ms(0, 8)); m != 0.5 {
		t.Fatalf("zero den: %v", m)
	}
	// median leaves the samples in order, so pairs survive it.
	b, c := ms(5, 1, 3), ms(1, 5, 3)
	if median(b) != 3*time.Millisecond || median(c) != 3*time.Millisecond {
		t.Fatal("median")
	}
	if m, _, _ := pairedRatio(b, c); m != 1 {
		t.Fatalf("pairs after median: %v (b %v, c %v)", m, b, c)
	}
	if m, lo, hi := pairedRatio(nil, nil); m != 0 || lo != 0 || hi != 0 {
		t.Fatalf("empty: %v [%v, %v]", m, lo, hi)
	}
}
