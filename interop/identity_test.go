package interop_test

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
)

// zbase32 is the z-base-32 alphabet (pkarr/DNS form of an id), which iroh's
// EndpointId parser must not take.
var zbase32 = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

var rfc4648 = base32.StdEncoding.WithPadding(base32.NoPadding)

func TestIdentityPublicKeysMatchIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	tool := interop.StartIDTool(t)
	seeds := [][32]byte{{}, {1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for range 50 {
		sk, err := identity.GenerateSecretKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, sk.Bytes())
	}
	for _, seed := range seeds {
		sk, err := identity.SecretKeyFromBytes(seed[:])
		if err != nil {
			t.Fatalf("SecretKeyFromBytes(%x): %v", seed, err)
		}
		want, err := tool.PublicID(seed)
		if err != nil {
			t.Fatalf("iroh pub(%x): %v", seed, err)
		}
		if got := sk.Public().String(); got != want {
			t.Errorf("secret %x: Go id %s, iroh id %s", seed, got, want)
		}
	}
}

// idVerdict is what one side made of an id string.
type idVerdict struct {
	id  string // hex, if accepted
	err error
}

func parseBoth(t *testing.T, tool *interop.IDTool, s string) (goV, irohV idVerdict) {
	t.Helper()
	if id, err := identity.ParseEndpointID(s); err == nil {
		goV.id = id.String()
	} else {
		goV.err = err
	}
	id, err := tool.ParseID(s)
	var rej *interop.RejectedError
	switch {
	case err == nil:
		irohV.id = id
	case errors.As(err, &rej):
		irohV.err = err
	default:
		t.Fatalf("idtool broke on %q: %v", s, err)
	}
	return goV, irohV
}

func TestIdentityParseIDAgreesWithIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	tool := interop.StartIDTool(t)
	sk, err := identity.GenerateSecretKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	id := sk.Public()
	lowerHex := id.String()
	b32 := rfc4648.EncodeToString(id[:])

	accepted := map[string]string{
		"lower hex":       lowerHex,
		"base32 upper":    b32,
		"base32 lower":    strings.ToLower(b32),
		"base32 mixed":    strings.ToLower(b32[:26]) + b32[26:],
		"hub-style fixed": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
	}
	for name, s := range accepted {
		goV, irohV := parseBoth(t, tool, s)
		if irohV.err != nil {
			t.Errorf("%s %q: iroh rejects: %v", name, s, irohV.err)
		}
		if goV.err != nil || goV.id != irohV.id {
			t.Errorf("%s %q: Go (%s, %v), iroh %s", name, s, goV.id, goV.err, irohV.id)
		}
	}

	rejected := map[string]string{
		"upper hex":    strings.ToUpper(lowerHex),
		"mixed hex":    upperFirstLetter(lowerHex),
		"short hex":    lowerHex[:62],
		"long hex":     lowerHex + "00",
		"empty":        "",
		"spaced hex":   " " + lowerHex[1:],
		"base32 pad":   rfc4648.EncodeToString(id[:])[:51] + "=",
		"not hex":      strings.Repeat("g", 64),
		"prefixed hex": "0x" + lowerHex[2:],
	}
	for zs := 0; zs < 4; {
		// z-base-32 ids using a symbol outside RFC 4648 base32 (1, 8, 9)
		// cannot be read as base32 by accident.
		k, err := identity.GenerateSecretKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Public()
		z := zbase32.EncodeToString(pub[:])
		if strings.ContainsAny(z, "189") {
			rejected[fmt.Sprintf("z-base-32 #%d", zs)] = z
			zs++
		}
	}
	for name, s := range rejected {
		goV, irohV := parseBoth(t, tool, s)
		if irohV.err == nil {
			t.Errorf("%s %q: iroh accepts it as %s", name, s, irohV.id)
		}
		if goV.err == nil {
			t.Errorf("%s %q: Go accepts it as %s", name, s, goV.id)
		}
	}
}

// upperFirstLetter upper-cases only the first a-f in a hex string.
func upperFirstLetter(h string) string {
	i := strings.IndexAny(h, "abcdef")
	if i < 0 {
		return strings.ToUpper(h) // all digits: no letter to change
	}
	return h[:i] + strings.ToUpper(h[i:i+1]) + h[i+1:]
}

// Edge-case 32-byte values, in hex: both parsers must agree on whether
// each is a valid Ed25519 point, and on the id.
func TestIdentityEdgePointsAgreeWithIroh(t *testing.T) {
	interop.RequireNetns(t)
	t.Parallel()
	tool := interop.StartIDTool(t)
	edges := []string{
		strings.Repeat("00", 32),                                           // y = 0
		"01" + strings.Repeat("00", 31),                                    // y = 1, the identity
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p-1
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p, non-canonical 0
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1, non-canonical 1
		strings.Repeat("ff", 32),                                           // y = 2^255-1 with sign bit
		"02" + strings.Repeat("00", 31),                                    // y = 2
		"0300000000000000000000000000000000000000000000000000000000000000",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // low-order point
	}
	for _, s := range edges {
		if _, err := hex.DecodeString(s); err != nil || len(s) != 64 {
			t.Fatalf("bad test vector %q", s)
		}
		goV, irohV := parseBoth(t, tool, s)
		t.Logf("%s: Go ok=%v, iroh ok=%v", s[:8], goV.err == nil, irohV.err == nil)
		if (goV.err == nil) != (irohV.err == nil) || goV.id != irohV.id {
			t.Errorf("%s: Go (%q, %v) vs iroh (%q, %v)", s, goV.id, goV.err, irohV.id, irohV.err)
		}
	}
}
