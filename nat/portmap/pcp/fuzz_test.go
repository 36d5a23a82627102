package pcp

import (
	"net/netip"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	f.Add(Response{Opcode: OpMap, Lifetime: 120, HasMap: true, Map: sampleMap()}.Append(nil))
	f.Add(Response{Opcode: OpAnnounce, Epoch: 5}.Append(nil))
	f.Add(Response{Opcode: OpMap, Result: NoResources}.Append(nil))
	f.Add(Request{Opcode: OpMap, ClientAddr: netip.MustParseAddr("10.0.0.2"), Map: sampleMap()}.Append(nil))
	f.Add([]byte{0, 128, 0, 0, 0, 0, 0, 1, 5, 5, 5, 1})
	f.Add([]byte{})
	f.Add(make([]byte, MaxMessage+4))
}

// FuzzParseResponse: any input parses or is refused without panicking, and
// a parsed response re-encodes to the bytes it came from (options aside).
func FuzzParseResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		again, err := ParseResponse(r.Append(nil))
		if err != nil {
			t.Fatalf("re-encoded response refused: %v", err)
		}
		if again != r {
			t.Fatalf("round trip changed %+v into %+v", r, again)
		}
	})
}

// FuzzParseRequest: the same for requests (the test servers' side).
func FuzzParseRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			return
		}
		again, err := ParseRequest(r.Append(nil))
		if err != nil || again != r {
			t.Fatalf("round trip %+v -> %+v, %v", r, again, err)
		}
	})
}
