package wire

import (
	"encoding/hex"
	"errors"
	"testing"
)

// RFC 9000 A.1 examples.
func TestVarintRFCExamples(t *testing.T) {
	cases := []struct {
		hex     string
		v       uint64
		minimal bool
	}{
		{"c2197c5eff14e88c", 151288809941952652, true},
		{"9d7f3e7d", 494878333, true},
		{"7bbd", 15293, true},
		{"25", 37, true},
		{"4025", 37, false},
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.hex)
		v, n, err := ParseVarint(b)
		if err != nil || v != c.v || n != len(b) {
			t.Errorf("ParseVarint(%s) = %d, %d, %v", c.hex, v, n, err)
		}
		if IsMinimalVarint(v, n) != c.minimal {
			t.Errorf("%s minimal = %v", c.hex, !c.minimal)
		}
		if c.minimal {
			if got := hex.EncodeToString(AppendVarint(nil, c.v)); got != c.hex {
				t.Errorf("AppendVarint(%d) = %s", c.v, got)
			}
		}
	}
}

func TestVarintBoundaries(t *testing.T) {
	for _, v := range []uint64{0, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, MaxVarint} {
		b := AppendVarint(nil, v)
		if len(b) != VarintLen(v) {
			t.Errorf("len(%d) = %d, VarintLen %d", v, len(b), VarintLen(v))
		}
		got, n, err := ParseVarint(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("round trip %d: %d %d %v", v, got, n, err)
		}
		if _, _, err := ParseVarint(b[:len(b)-1]); len(b) > 1 && !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated %d accepted", v)
		}
		for _, w := range []int{1, 2, 4, 8} {
			enc, ok := AppendVarintWithLen(nil, v, w)
			if ok != (w >= VarintLen(v)) {
				t.Errorf("AppendVarintWithLen(%d, %d) ok=%v", v, w, ok)
			}
			if ok {
				if got, n, _ := ParseVarint(enc); got != v || n != w {
					t.Errorf("fixed-width %d/%d decodes to %d/%d", v, w, got, n)
				}
			}
		}
	}
	if _, _, err := ParseVarint(nil); !errors.Is(err, ErrTruncated) {
		t.Error("empty input accepted")
	}
	if _, ok := AppendVarintWithLen(nil, 1, 3); ok {
		t.Error("width 3 accepted")
	}
}

// RFC 9000 A.2 and A.3 examples.
func TestPacketNumbers(t *testing.T) {
	if n := PacketNumberLen(0xac5c02, 0xabe8b3); n != 2 {
		t.Errorf("A.2 first example: %d bytes, want 2", n)
	}
	if n := PacketNumberLen(0xace8fe, 0xabe8b3); n != 3 {
		t.Errorf("A.2 second example: %d bytes, want 3", n)
	}
	if got := DecodePacketNumber(0xa82f30ea, 0x9b32, 2); got != 0xa82f9b32 {
		t.Errorf("A.3 example: %#x", got)
	}
	if n := PacketNumberLen(0, NoPacketAcked); n != 1 {
		t.Errorf("first packet: %d bytes", n)
	}
	if n := PacketNumberLen(1<<40, 0); n != 4 {
		t.Errorf("huge gap: %d bytes", n)
	}
	// Encode/decode agree across windows and wrap points.
	for _, c := range []struct {
		pn      uint64
		largest int64
	}{{0, -1}, {1, 0}, {255, 200}, {256, 255}, {0x10000, 0xff80}, {0x12345678, 0x12340000}, {1000, 990}} {
		n := PacketNumberLen(c.pn, c.largest)
		b := AppendPacketNumber(nil, c.pn, n)
		tr, err := ReadPacketNumber(b, n)
		if err != nil {
			t.Fatal(err)
		}
		// The receiver has seen at least the largest acknowledged packet.
		if got := DecodePacketNumber(c.largest, tr, n); got != c.pn {
			t.Errorf("pn %d (largest %d, %d bytes) decoded as %d", c.pn, c.largest, n, got)
		}
	}
	// Candidate above the window wraps down; near 2^62 it must not overflow.
	if got := DecodePacketNumber(0x1ff, 0x00, 1); got != 0x200 {
		t.Errorf("wrap up: %#x", got)
	}
	if got := DecodePacketNumber(0x100, 0xff, 1); got != 0xff {
		t.Errorf("wrap down: %#x", got)
	}
	if got := DecodePacketNumber(MaxPacketNumber-1, 0xff, 1); got != MaxPacketNumber {
		t.Errorf("top of range: %#x", got)
	}
	if _, err := ReadPacketNumber([]byte{1}, 2); !errors.Is(err, ErrTruncated) {
		t.Error("short packet number accepted")
	}
}
