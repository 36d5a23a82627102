package postcard

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// varintCase: hex input, integer width, the value and bytes consumed on
// success, or the error.
type varintCase struct {
	in   string
	bits uint
	want uint64
	n    int
	err  error
}

var varintCases = []varintCase{
	{"00", 16, 0, 1, nil},
	{"7f", 16, 127, 1, nil},
	{"8001", 16, 128, 2, nil},
	{"ac02", 16, 300, 2, nil},
	{"ffff03", 16, math.MaxUint16, 3, nil},
	{"ffff04", 16, 0, 0, ErrVarint},   // 2^16: last byte too big
	{"808000", 16, 0, 3, nil},         // over-long zero, postcard accepts
	{"80808000", 16, 0, 0, ErrVarint}, // more bytes than a u16 may use
	{"ffffffff0f", 32, math.MaxUint32, 5, nil},
	{"ffffffff10", 32, 0, 0, ErrVarint},
	{"ffffffffffffffffff01", 64, math.MaxUint64, 10, nil},
	{"ffffffffffffffffff02", 64, 0, 0, ErrVarint},
	{"80808080808080808000", 64, 0, 10, nil},
	{"8080808080808080808000", 64, 0, 0, ErrVarint},
	{"", 16, 0, 0, ErrTruncated},
	{"80", 64, 0, 0, ErrTruncated},
	{"ffff", 16, 0, 0, ErrTruncated},
	{"0500", 64, 5, 1, nil}, // trailing bytes are left unread
}

func readWidth(r *Reader, bits uint) (uint64, error) {
	switch bits {
	case 16:
		v, err := r.U16()
		return uint64(v), err
	case 32:
		v, err := r.U32()
		return uint64(v), err
	}
	return r.U64()
}

func TestVarint(t *testing.T) {
	for _, c := range varintCases {
		r := NewReader(mustHex(t, c.in))
		got, err := readWidth(r, c.bits)
		if !errors.Is(err, c.err) || (err == nil && (got != c.want || r.Offset() != c.n)) {
			t.Errorf("u%d %s = %d (%d bytes), %v; want %d (%d bytes), %v", c.bits, c.in, got, r.Offset(), err, c.want, c.n, c.err)
		}
	}
}

func TestAppendVarint(t *testing.T) {
	for v, want := range map[uint64]string{
		0: "00", 127: "7f", 128: "8001", 300: "ac02",
		math.MaxUint16: "ffff03", math.MaxUint64: "ffffffffffffffffff01",
	} {
		got := AppendVarint([]byte{0xaa}, v)
		if hex.EncodeToString(got) != "aa"+want {
			t.Errorf("AppendVarint(%d) = %x, want aa%s", v, got, want)
		}
		if VarintLen(v) != len(want)/2 {
			t.Errorf("VarintLen(%d) = %d, want %d", v, VarintLen(v), len(want)/2)
		}
	}
}

func TestBytesAndStr(t *testing.T) {
	body := AppendBytes(nil, []byte("héllo"))
	r := NewReader(append(body, 0xff))
	s, err := r.Str()
	if err != nil || s != "héllo" || r.Remaining() != 1 {
		t.Fatalf("Str = %q, %v, %d left", s, err, r.Remaining())
	}
	if b, err := r.Byte(); err != nil || b != 0xff {
		t.Fatalf("Byte = %x, %v", b, err)
	}
	if _, err := r.Byte(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("Byte at end: %v", err)
	}
	for in, want := range map[string]error{
		"02ff":                 ErrTruncated, // length beyond the input
		"01ff":                 ErrUTF8,
		"ffffffffffffffff7f00": ErrTruncated, // 2^63-ish length must not overflow
		"ffffffffffffffffff7f": ErrVarint,
	} {
		if _, err := NewReader(mustHex(t, in)).Str(); !errors.Is(err, want) {
			t.Errorf("Str(%s) error = %v, want %v", in, err, want)
		}
	}
	if _, err := NewReader([]byte{1, 2}).Take(math.MaxUint64); !errors.Is(err, ErrTruncated) {
		t.Errorf("Take(max) error = %v", err)
	}
}

// refVarint decides a bits-wide postcard varint with encoding/binary, whose
// Uvarint has postcard's u64 rules (10 bytes, over-long forms accepted),
// limited to the bytes a bits-wide value may use.
func refVarint(b []byte, bits uint) (uint64, int, error) {
	maxBytes := int((bits + 6) / 7)
	p := b[:min(len(b), maxBytes)]
	v, n := binary.Uvarint(p)
	switch {
	case n == 0 && len(p) < maxBytes:
		return 0, 0, ErrTruncated
	case n <= 0:
		return 0, 0, ErrVarint
	case bits < 64 && v>>bits != 0:
		return 0, 0, ErrVarint
	}
	return v, n, nil
}

func FuzzReader(f *testing.F) {
	for _, c := range varintCases {
		f.Add(mustHex(f, c.in))
	}
	f.Add(AppendBytes(nil, []byte("relay")))
	f.Add([]byte{0x01, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, bits := range []uint{16, 32, 64} {
			r := NewReader(b)
			v, err := readWidth(r, bits)
			wantV, wantN, wantErr := refVarint(b, bits)
			if err != wantErr || (err == nil && (v != wantV || r.Offset() != wantN)) {
				t.Fatalf("u%d: got %d/%d/%v, reference %d/%d/%v", bits, v, r.Offset(), err, wantV, wantN, wantErr)
			}
			if err != nil {
				continue
			}
			enc := AppendVarint(nil, v)
			back, err := readWidth(NewReader(enc), bits)
			if err != nil || back != v || len(enc) != VarintLen(v) || len(enc) > wantN {
				t.Fatalf("u%d %d re-encodes as %x: %d, %v", bits, v, enc, back, err)
			}
		}
		r := NewReader(b)
		s, err := r.Bytes()
		l, n, lerr := refVarint(b, 64)
		switch {
		case lerr != nil:
			if err != lerr {
				t.Fatalf("Bytes error %v, length error %v", err, lerr)
			}
		case l > uint64(len(b)-n):
			if err != ErrTruncated {
				t.Fatalf("Bytes with length %d of %d: %v", l, len(b)-n, err)
			}
		case err != nil || !bytes.Equal(s, b[n:n+int(l)]) || r.Offset() != n+int(l):
			t.Fatalf("Bytes = %x, %v", s, err)
		}
	})
}
