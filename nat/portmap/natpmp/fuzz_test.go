package natpmp

import (
	"net/netip"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	f.Add(Response{Opcode: OpExternalAddress, ExternalAddr: netip.MustParseAddr("5.5.5.1")}.Append(nil))
	f.Add(Response{Opcode: OpMapUDP, InternalPort: 1, ExternalPort: 2, Lifetime: 3}.Append(nil))
	f.Add([]byte{0, 129, 0, 3, 0, 0, 0, 0})
	f.Add(Request{Opcode: OpMapTCP, InternalPort: 9, Lifetime: 1}.Append(nil))
	f.Add([]byte{0, 0})
	f.Add([]byte{2, 129, 0, 0})
	f.Add(make([]byte, 60))
}

// FuzzParseResponse: any input parses or is refused without panicking, and
// a parsed response re-encodes to exactly the bytes it came from.
func FuzzParseResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		if len(b) == 8 {
			return // a bodiless error re-encodes with a zero body
		}
		if got := r.Append(nil); string(got) != string(b) {
			t.Fatalf("%x parsed as %+v re-encodes as %x", b, r, got)
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
		if got := r.Append(nil); len(b) >= 4 && string(got[4:]) != string(b[4:]) {
			t.Fatalf("%x parsed as %+v re-encodes as %x", b, r, got)
		}
	})
}
