package identity

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseEndpointID(f *testing.F) {
	for _, s := range []string{k1Public, k1Base32, strings.ToUpper(k1Base32), k1ZBase32, k3Public, k3ZBase32, strings.ToUpper(k1Public), "", "00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseEndpointID(s); err == nil {
			// Exactly one accepted spelling per form: the canonical one.
			switch len(s) {
			case 64:
				if s != id.String() {
					t.Fatalf("accepted non-canonical hex %q for %v", s, id)
				}
			case 52:
				if strings.ToLower(s) != id.Base32() {
					t.Fatalf("accepted non-canonical base32 %q for %v", s, id)
				}
			default:
				t.Fatalf("accepted length %d", len(s))
			}
			for _, form := range []string{id.String(), id.Base32()} {
				if back, err := ParseEndpointID(form); err != nil || back != id {
					t.Fatalf("round trip of %q: %v, %v", form, back, err)
				}
			}
			if back, err := ParseZBase32(id.ZBase32()); err != nil || back != id {
				t.Fatalf("z32 round trip: %v, %v", back, err)
			}
		}
		if id, err := ParseZBase32(s); err == nil && id.ZBase32() != s {
			t.Fatalf("ParseZBase32 accepted non-canonical %q", s)
		}
	})
}

func FuzzParseSecretKey(f *testing.F) {
	for _, s := range []string{k2Secret, strings.ToUpper(k2Secret), k2Seed, strings.ToUpper(k2Seed), k2ZBase32, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSecretKey(s)
		if err != nil {
			return
		}
		seed := k.Bytes()
		hexSeed := hex.EncodeToString(seed[:])
		if len(s) == 64 && s != hexSeed {
			t.Fatalf("accepted non-canonical hex %q", s)
		}
		if len(s) == 52 && strings.ToLower(s) != base32Std.Encode(seed[:]) {
			t.Fatalf("accepted non-canonical base32 %q", s)
		}
		back, err := ParseSecretKey(hexSeed)
		if err != nil || back.Bytes() != seed || back.Public() != k.Public() {
			t.Fatalf("hex round trip failed: %v", err)
		}
	})
}

func FuzzParseSPKI(f *testing.F) {
	f.Add(k1Secret(f).Public().SPKI())
	f.Add(append(bytes.Clone(spkiPrefix), make([]byte, 32)...))
	f.Add(spkiPrefix)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		id, err := ParseSPKI(der)
		if err != nil {
			return
		}
		if !bytes.Equal(id.SPKI(), der) {
			t.Fatalf("accepted %x, re-encodes as %x", der, id.SPKI())
		}
	})
}

func FuzzParseTicket(f *testing.F) {
	for _, s := range []string{t1String, t2String, t3String, strings.ToUpper(t1String), "endpoint", ""} {
		f.Add(s)
	}
	f.Add(EndpointAddr{ID: k1Secret(f).Public(), Custom: []CustomAddr{{ID: 1, Data: []byte{1, 2}}, {ID: 9, Data: make([]byte, 40)}}}.String())
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := ParseTicket(s)
		if err != nil {
			return
		}
		checkTicketRoundTrip(t, tk)
	})
}

func FuzzUnmarshalTicketBinary(f *testing.F) {
	for _, h := range []string{t1Bytes, t2Bytes, "00" + k1Public + "00"} {
		f.Add(mustHex(f, h))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := UnmarshalTicketBinary(b)
		if err != nil {
			return
		}
		checkTicketRoundTrip(t, tk)
	})
}

// checkTicketRoundTrip: a parsed ticket re-encodes, and parsing that gives
// back the same ticket and the same string.
func checkTicketRoundTrip(t *testing.T, tk EndpointAddr) {
	t.Helper()
	s := tk.String()
	back, err := ParseTicket(s)
	if err != nil {
		t.Fatalf("re-encoded ticket %q does not parse: %v", s, err)
	}
	if !reflect.DeepEqual(back, tk) {
		t.Fatalf("round trip changed the ticket:\n%+v\n%+v", tk, back)
	}
	if back.String() != s {
		t.Fatalf("String not stable: %q vs %q", s, back.String())
	}
}

func FuzzNormalizeRelayURL(f *testing.F) {
	for _, s := range []string{"http://derp.me.", "https://h:443/a/../b?q#f", "http://[::ffff:1.2.3.4]:80", "http://0x7f.1", "relay.example", "http://h/%2e%2E/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeRelayURL(s)
		if err != nil {
			return
		}
		again, err := NormalizeRelayURL(n)
		if err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, n, again, err)
		}
	})
}

func FuzzParseKeyFile(f *testing.F) {
	key := strings.Repeat("2a", 32)
	for _, s := range []string{keyFileHeader + "\n" + key + "\n", key, "#\n" + key + "\n#", key + "\r\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		k, err := parseKeyFile(content)
		if err != nil {
			return
		}
		seed := k.Bytes()
		line := hex.EncodeToString(seed[:])
		if !strings.Contains(content, line) {
			t.Fatalf("accepted %q without its key line %s", content, line)
		}
		for _, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
			if l != line && !strings.HasPrefix(l, "#") {
				t.Fatalf("accepted stray line %q", l)
			}
		}
	})
}
