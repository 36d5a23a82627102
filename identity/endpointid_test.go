package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"filippo.io/edwards25519"
)

// notAPoint returns 32 bytes that do not decode to a curve point, found
// deterministically by scanning small y values.
func notAPoint(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 32)
	for i := 0; i < 256; i++ {
		b[0] = byte(i)
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			return b
		}
	}
	t.Fatal("no invalid encoding found")
	return nil
}

// identityPoint is the encoding of the neutral element, a small-order key.
var identityPoint = append([]byte{1}, make([]byte, 31)...)

func TestParseEndpointIDRejects(t *testing.T) {
	bad := hex.EncodeToString(notAPoint(t))
	cases := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrInvalidLength},
		{"hex 63", k1Public[:63], ErrInvalidLength},
		{"hex 65", k1Public + "0", ErrInvalidLength},
		{"base32 51", k1Base32[:51], ErrInvalidLength},
		{"base32 53", k1Base32 + "a", ErrInvalidLength},
		{"uppercase hex", strings.ToUpper(k1Public), ErrUppercaseHex},
		{"one uppercase hex digit", "197F" + k1Public[4:], ErrUppercaseHex},
		{"non-hex 64", "g" + k1Public[1:], ErrInvalidEncoding},
		{"z-base-32", k1ZBase32, ErrInvalidEncoding},
		{"base32 padding char", k1Base32[:51] + "=", ErrInvalidEncoding},
		{"base32 trailing bits", k1Base32[:51] + "r", ErrInvalidEncoding},
		{"non-ASCII", strings.Repeat("é", 26), ErrInvalidEncoding},
		{"not a point", bad, ErrInvalidPoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEndpointID(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseEndpointID(%q) error = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestParseZBase32Rejects(t *testing.T) {
	cases := []struct {
		name, in string
		want     error
	}{
		{"uppercase", strings.ToUpper(k1ZBase32), ErrInvalidEncoding},
		{"rfc4648 base32", k1Base32, ErrInvalidEncoding},
		{"hex", k1Public, ErrInvalidLength},
		{"short", k1ZBase32[:51], ErrInvalidLength},
		{"trailing bits", k1ZBase32[:51] + "b", ErrInvalidEncoding},
		{"not a point", base32Z.Encode(notAPoint(t)), ErrInvalidPoint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseZBase32(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseZBase32(%q) error = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestEndpointIDFromBytes(t *testing.T) {
	for _, n := range []int{0, 31, 33} {
		if _, err := EndpointIDFromBytes(make([]byte, n)); !errors.Is(err, ErrInvalidLength) {
			t.Errorf("%d bytes: error = %v, want ErrInvalidLength", n, err)
		}
	}
	if _, err := EndpointIDFromBytes(notAPoint(t)); !errors.Is(err, ErrInvalidPoint) {
		t.Errorf("invalid point: error = %v", err)
	}
	want := mustHex(t, k1Public)
	id, err := EndpointIDFromBytes(want)
	if err != nil || !bytes.Equal(id[:], want) {
		t.Fatalf("EndpointIDFromBytes = %v, %v", id, err)
	}
	if !bytes.Equal(id.PublicKey(), want) {
		t.Error("PublicKey differs from the id bytes")
	}
}

func TestEncodingsRoundTrip(t *testing.T) {
	for i := range 64 {
		k, err := GenerateSecretKey(bytes.NewReader(bytes.Repeat([]byte{byte(i * 7)}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		id := k.Public()
		for _, s := range []string{id.String(), id.Base32(), strings.ToUpper(id.Base32())} {
			if got, err := ParseEndpointID(s); err != nil || got != id {
				t.Fatalf("ParseEndpointID(%q) = %v, %v", s, got, err)
			}
		}
		if got, err := ParseZBase32(id.ZBase32()); err != nil || got != id {
			t.Fatalf("ParseZBase32(%q) = %v, %v", id.ZBase32(), got, err)
		}
		if len(id.Base32()) != 52 || len(id.ZBase32()) != 52 || id.Short() != id.String()[:10] {
			t.Fatalf("unexpected string lengths for %v", id)
		}
	}
}

func TestBase32CodecMatchesRFC4648(t *testing.T) {
	// RFC 4648 §10 test vectors, lowercase and without padding.
	vectors := map[string]string{"": "", "f": "my", "fo": "mzxq", "foo": "mzxw6", "foob": "mzxw6yq", "fooba": "mzxw6ytb", "foobar": "mzxw6ytboi"}
	for in, want := range vectors {
		if got := base32Std.Encode([]byte(in)); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
		got, err := base32Std.Decode(strings.ToUpper(want))
		if err != nil || string(got) != in {
			t.Errorf("Decode(%q) = %q, %v", want, got, err)
		}
	}
	for _, bad := range []string{"m", "mzx", "mzxw6y"} {
		if _, err := base32Std.Decode(bad); !errors.Is(err, ErrInvalidLength) {
			t.Errorf("Decode(%q) error = %v, want ErrInvalidLength", bad, err)
		}
	}
	if _, err := base32Std.Decode("mz"); !errors.Is(err, ErrInvalidEncoding) {
		t.Errorf("Decode(mz) with trailing bits: error = %v", err)
	}
}

func TestVerifyStrict(t *testing.T) {
	k := k1Secret(t)
	id := k.Public()
	msg := []byte("hello")
	sig := k.Sign(msg)
	if !id.Verify(msg, sig) {
		t.Fatal("honest signature rejected")
	}
	if id.Verify(msg, sig[:63]) || id.Verify(msg, append(sig, 0)) {
		t.Error("signature of wrong length accepted")
	}
	bad := bytes.Clone(sig)
	bad[63] ^= 0x10
	if id.Verify(msg, bad) {
		t.Error("corrupted signature accepted")
	}

	// With the identity as public key, R = identity and S = 0 satisfy the
	// cofactorless equation for every message: Go's ed25519.Verify accepts
	// it, verify_strict (and so Verify) must not.
	weak := EndpointID(identityPoint)
	forged := append(bytes.Clone(identityPoint), make([]byte, 32)...)
	if !ed25519.Verify(weak.PublicKey(), msg, forged) {
		t.Fatal("test premise: Go accepts the small-order forgery")
	}
	if weak.Verify(msg, forged) {
		t.Error("Verify accepted a signature under a small-order key")
	}
}

func TestIsSmallOrder(t *testing.T) {
	if !EndpointID(identityPoint).IsSmallOrder() {
		t.Error("identity point not small order")
	}
	if !(EndpointID{}).IsSmallOrder() {
		t.Error("y=0 (order 4) not small order")
	}
	if k1Secret(t).Public().IsSmallOrder() {
		t.Error("K1 public key reported small order")
	}
}

func TestEndpointIDText(t *testing.T) {
	id := k1Secret(t).Public()
	out, err := json.Marshal(map[string]EndpointID{"id": id})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"` + k1Public + `"}`; string(out) != want {
		t.Errorf("json = %s, want %s", out, want)
	}
	var back map[string]EndpointID
	if err := json.Unmarshal(out, &back); err != nil || back["id"] != id {
		t.Errorf("json round trip = %v, %v", back, err)
	}
	var got EndpointID
	if err := got.UnmarshalText([]byte(strings.ToUpper(k1Public))); !errors.Is(err, ErrUppercaseHex) {
		t.Errorf("UnmarshalText(upper) error = %v", err)
	}
	if got != (EndpointID{}) {
		t.Error("failed UnmarshalText modified the receiver")
	}
}

func TestSPKI(t *testing.T) {
	id := k1Secret(t).Public()
	der := id.SPKI()
	if want := "302a300506032b6570032100" + k1Public; hex.EncodeToString(der) != want {
		t.Fatalf("SPKI = %x, want %s", der, want)
	}
	got, err := ParseSPKI(der)
	if err != nil || got != id {
		t.Fatalf("ParseSPKI = %v, %v", got, err)
	}
	flip := func(i int) []byte { b := bytes.Clone(der); b[i] ^= 1; return b }
	rejects := map[string][]byte{
		"empty":        nil,
		"short":        der[:43],
		"trailing":     append(bytes.Clone(der), 0),
		"sequence len": flip(1),
		"oid":          flip(8),
		"unused bits":  flip(11),
		"not a point":  append(bytes.Clone(der[:12]), notAPoint(t)...),
	}
	for name, in := range rejects {
		if _, err := ParseSPKI(in); !errors.Is(err, ErrInvalidSPKI) {
			t.Errorf("%s: error = %v, want ErrInvalidSPKI", name, err)
		}
	}
	if _, err := ParseSPKI(rejects["not a point"]); !errors.Is(err, ErrInvalidPoint) {
		t.Errorf("not a point: error = %v, want ErrInvalidPoint too", err)
	}
}
