package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSecretKeyRedaction(t *testing.T) {
	k := k1Secret(t)
	seed := k.Bytes()
	type exported struct{ K SecretKey }
	type unexported struct{ k SecretKey }
	values := map[string]any{
		"value":      k,
		"pointer":    &k,
		"slice":      []SecretKey{k},
		"map":        map[string]SecretKey{"k": k},
		"exported":   exported{k},
		"unexported": unexported{k},
		"nested ptr": &unexported{k},
	}
	// Tell-tale renderings of the seed 0x2a... in the formats fmt might use.
	leaks := []string{"2a2a2a", "2A2A2A", "42 42 42", "**********", hex2(seed[:4])}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%10.3v", "%-20s"} {
			out := fmt.Sprintf(verb, v)
			for _, leak := range leaks {
				if strings.Contains(out, leak) {
					t.Errorf("%s with %s leaks the seed: %s", name, verb, out)
				}
			}
		}
	}
	for _, out := range []string{k.String(), k.GoString(), fmt.Sprint(k), fmt.Sprintf("%x", k)} {
		if out != "SecretKey(redacted)" {
			t.Errorf("got %q, want SecretKey(redacted)", out)
		}
	}
}

func hex2(b []byte) string { return fmt.Sprintf("%x", b) }

func TestSecretKeyRefusesMarshal(t *testing.T) {
	k := k1Secret(t)
	if _, err := json.Marshal(k); err == nil {
		t.Error("json.Marshal(SecretKey) succeeded")
	}
	if _, err := json.Marshal(struct{ K SecretKey }{k}); err == nil {
		t.Error("json.Marshal(struct{SecretKey}) succeeded")
	}
	if _, err := k.MarshalText(); err == nil {
		t.Error("MarshalText succeeded")
	}
	if err := gob.NewEncoder(io.Discard).Encode(struct{ K SecretKey }{k}); err == nil {
		t.Error("gob encoding succeeded")
	}
}

func TestGenerateSecretKey(t *testing.T) {
	src := bytes.Repeat([]byte{0x2a}, 32)
	k, err := GenerateSecretKey(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if k.Public().String() != k1Public {
		t.Errorf("deterministic generation gave %v", k.Public())
	}
	if _, err := GenerateSecretKey(iotest.ErrReader(errors.New("no entropy"))); err == nil {
		t.Error("failing reader accepted")
	}
	if _, err := GenerateSecretKey(bytes.NewReader(src[:31])); err == nil {
		t.Error("short reader accepted")
	}
	a, err := GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateSecretKey(nil)
	if a.Bytes() == b.Bytes() || a.IsZero() {
		t.Error("crypto/rand keys are equal or zero")
	}
}

func TestSecretKeyBasics(t *testing.T) {
	k := k1Secret(t)
	seed := k.Bytes()
	want := ed25519.NewKeyFromSeed(seed[:])
	if !bytes.Equal(k.PrivateKey(), want) {
		t.Error("PrivateKey differs from ed25519.NewKeyFromSeed")
	}
	k.PrivateKey()[0] ^= 1 // must not affect the key
	if !bytes.Equal(k.PrivateKey(), want) {
		t.Error("PrivateKey exposes internal storage")
	}
	if !bytes.Equal(k.Sign([]byte("x")), ed25519.Sign(want, []byte("x"))) {
		t.Error("Sign differs from ed25519.Sign")
	}
	if k.IsZero() {
		t.Error("real key IsZero")
	}
	var zero SecretKey
	if !zero.IsZero() || zero.Public() != (EndpointID{}) || zero.Sign([]byte("x")) != nil || zero.PrivateKey() != nil || zero.Bytes() != [32]byte{} {
		t.Error("zero SecretKey misbehaves")
	}
}

func TestSecretKeyParseRejects(t *testing.T) {
	cases := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrInvalidLength},
		{"uppercase hex", strings.ToUpper(k2Seed), ErrUppercaseHex},
		{"bad hex", "x" + k2Seed[1:], ErrInvalidEncoding},
		{"base32 trailing bits", k2Secret[:51] + "b", ErrInvalidEncoding},
		{"z-base-32", k2ZBase32, ErrInvalidEncoding},
		{"base32 short", k2Secret[:50], ErrInvalidLength},
	}
	for _, tc := range cases {
		if _, err := ParseSecretKey(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := SecretKeyFromBytes(make([]byte, n)); !errors.Is(err, ErrInvalidLength) {
			t.Errorf("SecretKeyFromBytes(%d bytes) error = %v", n, err)
		}
	}
}
