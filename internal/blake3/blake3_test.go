package blake3

import (
	"bytes"
	"testing"

	reference "lukechampine.com/blake3"
)

func referenceDeriveKey(context string, material []byte) []byte {
	out := make([]byte, 32)
	reference.DeriveKey(out, context, material)
	return out
}

// TestDeriveKeyMatchesReference: every context and material length up to
// one chunk, against a full BLAKE3 implementation.
func TestDeriveKeyMatchesReference(t *testing.T) {
	buf := make([]byte, MaxInput)
	for i := range buf {
		buf[i] = byte(i % 251) // the BLAKE3 test vectors' input pattern
	}
	for n := 0; n <= MaxInput; n++ {
		ctx := string(buf[:n%97])
		if got, want := DeriveKey(ctx, buf[:n]), referenceDeriveKey(ctx, buf[:n]); !bytes.Equal(got[:], want) {
			t.Fatalf("material %d bytes, context %d: %x, want %x", n, len(ctx), got, want)
		}
		long := string(buf[:MaxInput-n])
		if got, want := DeriveKey(long, buf[:n%65]), referenceDeriveKey(long, buf[:n%65]); !bytes.Equal(got[:], want) {
			t.Fatalf("context %d bytes: %x, want %x", len(long), got, want)
		}
	}
}

// TestDeriveKeyVector: the BLAKE3 test vectors' context over 0 and 1
// bytes of input (first 32 bytes of their derive_key outputs).
func TestDeriveKeyVector(t *testing.T) {
	const ctx = "BLAKE3 2019-12-27 16:29:52 test vectors context"
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{nil, "2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d"},
		{[]byte{0}, "b3e2e340a117a499c6cf2398a19ee0d29cca2bb7404c73063382693bf66cb06c"},
	} {
		got := DeriveKey(ctx, tc.in)
		if h := hexString(got[:]); h != tc.want {
			t.Errorf("%d bytes: %s, want %s", len(tc.in), h, tc.want)
		}
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestDeriveKeyRefusesLongInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for material over one chunk")
		}
	}()
	DeriveKey("c", make([]byte, MaxInput+1))
}

// FuzzDeriveKey: any context and material within one chunk hash as a full
// implementation does.
func FuzzDeriveKey(f *testing.F) {
	f.Add("iroh-relay handshake v1 challenge signature", make([]byte, 16))
	f.Add("", []byte{})
	f.Add("c", bytes.Repeat([]byte{0xff}, 65))
	f.Fuzz(func(t *testing.T, ctx string, material []byte) {
		if len(ctx) > MaxInput || len(material) > MaxInput {
			return
		}
		if got, want := DeriveKey(ctx, material), referenceDeriveKey(ctx, material); !bytes.Equal(got[:], want) {
			t.Fatalf("%x, want %x", got, want)
		}
	})
}
