package identity

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	"filippo.io/edwards25519"
)

// verifyVector is one line of testdata/verify_strict.txt.
type verifyVector struct {
	name          string
	strict, std   bool
	pub, msg, sig []byte
}

func loadVerifyVectors(t testing.TB) []verifyVector {
	t.Helper()
	f, err := os.Open("testdata/verify_strict.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []verifyVector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<16)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 6 {
			t.Fatalf("bad vector line %q", line)
		}
		v := verifyVector{name: fields[0]}
		v.strict, err = strconv.ParseBool(fields[1])
		if err == nil {
			v.std, err = strconv.ParseBool(fields[2])
		}
		for i, dst := range []*[]byte{&v.pub, &v.msg, &v.sig} {
			if err == nil && fields[3+i] != "-" {
				*dst, err = hex.DecodeString(fields[3+i])
			}
		}
		if err != nil {
			t.Fatalf("vector %s: %v", v.name, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// modelVerifyStrict restates dalek's verify_strict step by step with group
// operations instead of crypto/ed25519, as an independent oracle: decode A
// and R, refuse small-order ones, require S < L, recompute R' = [S]B - [k]A
// with k = SHA-512(R ‖ A ‖ M) mod L, and compare its encoding with R's bytes.
func modelVerifyStrict(pub, msg, sig []byte) bool {
	if len(pub) != 32 || len(sig) != 64 {
		return false
	}
	a, errA := new(edwards25519.Point).SetBytes(pub)
	r, errR := new(edwards25519.Point).SetBytes(sig[:32])
	if errA != nil || errR != nil {
		return false
	}
	identity := edwards25519.NewIdentityPoint()
	for _, p := range []*edwards25519.Point{a, r} {
		if new(edwards25519.Point).MultByCofactor(p).Equal(identity) == 1 {
			return false
		}
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	h.Write(msg)
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		panic(err)
	}
	sB := new(edwards25519.Point).ScalarBaseMult(s)
	kA := new(edwards25519.Point).ScalarMult(k, a)
	return bytes.Equal(new(edwards25519.Point).Subtract(sB, kA).Bytes(), sig[:32])
}

func TestVerifyStrictVectors(t *testing.T) {
	vectors := loadVerifyVectors(t)
	if len(vectors) < 30 {
		t.Fatalf("only %d vectors loaded", len(vectors))
	}
	differ := 0
	for _, v := range vectors {
		if got := VerifyStrict(v.pub, v.msg, v.sig); got != v.strict {
			t.Errorf("%s: VerifyStrict = %v, want %v", v.name, got, v.strict)
		}
		if got := modelVerifyStrict(v.pub, v.msg, v.sig); got != v.strict {
			t.Errorf("%s: model = %v, want %v", v.name, got, v.strict)
		}
		// The std column is the premise that makes a case interesting.
		std := len(v.pub) == 32 && ed25519.Verify(v.pub, v.msg, v.sig)
		if std != v.std {
			t.Errorf("%s: ed25519.Verify = %v, want %v", v.name, std, v.std)
		}
		if len(v.pub) == 32 {
			if got := EndpointID(v.pub).Verify(v.msg, v.sig); got != v.strict {
				t.Errorf("%s: EndpointID.Verify = %v, want %v", v.name, got, v.strict)
			}
		}
		if v.std && !v.strict {
			differ++
		}
	}
	if differ < 5 {
		t.Errorf("only %d vectors separate strict from plain verification", differ)
	}
}

// FuzzVerifyStrict checks VerifyStrict against the model on the committed
// vectors and their mutations; strict acceptance implies plain acceptance.
func FuzzVerifyStrict(f *testing.F) {
	for _, v := range loadVerifyVectors(f) {
		f.Add(v.pub, v.msg, v.sig)
	}
	f.Add([]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		got := VerifyStrict(pub, msg, sig)
		if want := modelVerifyStrict(pub, msg, sig); got != want {
			t.Fatalf("VerifyStrict = %v, model = %v", got, want)
		}
		if got && !ed25519.Verify(pub, msg, sig) {
			t.Fatal("strict accepted what ed25519.Verify refuses")
		}
		if len(pub) == 32 && EndpointID(pub).Verify(msg, sig) != got {
			t.Fatal("EndpointID.Verify disagrees with VerifyStrict")
		}
	})
}

// TestSmallOrderBytes: the table VerifyStrict checks holds exactly the
// decodable encodings of small-order points, among the table itself,
// its one-bit neighbours, the y near 0 and p with either sign, random
// bytes and encodings of random and mixed-order points.
func TestSmallOrderBytes(t *testing.T) {
	if len(smallOrderBytes) != 14 {
		t.Fatalf("%d small-order encodings, want 14", len(smallOrderBytes))
	}
	check := func(b []byte) {
		t.Helper()
		_, err := new(edwards25519.Point).SetBytes(b)
		want := err == nil && isSmallOrderEncoding(b)
		if got := isSmallOrderBytes(b); got != want {
			t.Fatalf("%x: table says %v, decoding says %v", b, got, want)
		}
	}
	var tried int
	for _, e := range smallOrderBytes {
		check(e[:])
		for bit := range 256 {
			b := e
			b[bit/8] ^= 1 << (bit % 8)
			check(b[:])
			tried++
		}
	}
	for _, top := range []bool{false, true} {
		for k := range 64 {
			var lo, hi [32]byte
			lo[0] = byte(k) // y = k
			for i := range hi {
				hi[i] = 0xff
			}
			hi[0], hi[31] = 0xff-byte(k), 0x7f // y = 2^255-1-k, around p
			if top {
				lo[31] |= 0x80
				hi[31] |= 0x80
			}
			check(lo[:])
			check(hi[:])
			tried += 2
		}
	}
	torsion := new(edwards25519.Point)
	if _, err := torsion.SetBytes(smallOrderBytes[2][:]); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		h := sha512.Sum512([]byte{byte(i), byte(i >> 8)})
		check(h[:32])
		s, _ := edwards25519.NewScalar().SetUniformBytes(h[:])
		p := new(edwards25519.Point).ScalarBaseMult(s)
		check(p.Bytes())
		check(new(edwards25519.Point).Add(p, torsion).Bytes()) // mixed order
		tried += 3
	}
	t.Logf("%d encodings agree", tried)
}
