package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"unicode/utf8"
)

var envelopeSeeds = []string{
	`{"type":"a","id":"1","payload":{"x":[1,2,{"y":null}]}}`,
	` { "id" : "1" , "type" : "a" , "payload" : "s\n\u00e9\ud83d\ude00" } `,
	`{"type":"\ud800","id":"\udc00\u0041"}`,
	`{"\u0074ype":"a","id":"1"}`,
	`{"type":"a","type":"b","id":"1"}`,
	`{"type":1,"id":"1"}`,
	`{"type":"a"}`,
	`{"type":"a","id":"1","payload":-0.5e+10}`,
	`{"type":"a","id":"1","payload":[[[[{}]]]]}`,
	`{"type":"a","id":"1","payload":01}`,
	"{\"type\":\"a\xff\",\"id\":\"1\"}",
	`[1]`,
	``,
}

// FuzzParseEnvelope checks ParseEnvelope against an encoding/json based
// reference and that a parsed envelope survives an encode/decode round trip.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	if golden, err := os.ReadFile("testdata/capture-spoke-to-hub.bin"); err == nil {
		f.Add(golden[4 : 4+binary.BigEndian.Uint32(golden)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEnvelope(data)
		ref, refErr := refParse(data)
		if !sameClass(err, refErr) {
			t.Fatalf("ParseEnvelope(%q) = %v, reference %v", data, err, refErr)
		}
		if verr := ValidateEnvelope(data); !sameClass(err, verr) {
			t.Fatalf("ValidateEnvelope disagrees: %v vs %v", verr, err)
		}
		if err != nil {
			if !IsRecoverable(err) {
				t.Fatalf("content error %v not recoverable", err)
			}
			return
		}
		if e.Type != ref.typ || e.ID != ref.id || (e.Payload != nil) != ref.hasPayload ||
			(e.Payload != nil && !bytes.Equal(compactJSON(e.Payload), ref.payload)) {
			t.Fatalf("ParseEnvelope(%q) = %+v, reference %+v", data, e, ref)
		}
		enc, err := AppendFrame(nil, e)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", e, err)
		}
		e2, err := ParseEnvelope(enc[4:])
		if err != nil || e2.Type != e.Type || e2.ID != e.ID || !bytes.Equal(compactJSON(e2.Payload), compactJSON(orNull(e.Payload))) {
			t.Fatalf("round trip %+v -> %q -> %+v, %v", e, enc, e2, err)
		}
		enc2, _ := AppendFrame(nil, e2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
	})
}

func orNull(p []byte) []byte {
	if len(p) == 0 {
		return []byte("null")
	}
	return p
}

// FuzzAppendFrame checks the encoder: it accepts exactly what is valid and
// its output always decodes to the same envelope.
func FuzzAppendFrame(f *testing.F) {
	f.Add("a", "1", []byte(`{"x": [1, 2]}`))
	f.Add("q\"\\\x00\x1f", "é😀\u2028", []byte(` "s" `))
	f.Add("\xff", "1", []byte(`null`))
	f.Add("a", "1", []byte(``))
	f.Add("a", "1", []byte(`{"a" 1}`))
	f.Fuzz(func(t *testing.T, typ, id string, payload []byte) {
		e := Envelope{Type: typ, ID: id, Payload: payload}
		enc, err := AppendFrame(nil, e)
		valid := utf8.ValidString(typ) && utf8.ValidString(id) &&
			(len(payload) == 0 || (utf8.Valid(payload) && jsonValidAtDepth1(payload)))
		if valid != (err == nil) {
			t.Fatalf("AppendFrame(%q, %q, %q): err %v, expected valid=%v", typ, id, payload, err, valid)
		}
		if err != nil {
			if enc != nil {
				t.Fatalf("dst changed on error")
			}
			return
		}
		if int(binary.BigEndian.Uint32(enc)) != len(enc)-4 {
			t.Fatalf("bad length prefix")
		}
		got, err := ParseEnvelope(enc[4:])
		if err != nil || got.Type != typ || got.ID != id || !bytes.Equal(got.Payload, compactJSON(orNull(payload))) {
			t.Fatalf("decoded %+v, %v from %q", got, err, enc)
		}
	})
}

// jsonValidAtDepth1 asks encoding/json whether p is valid as a member value.
func jsonValidAtDepth1(p []byte) bool {
	_, err := refParse(append(append([]byte(`{"type":"","id":"","payload":`), p...), '}'))
	return err == nil
}

// FuzzReader feeds arbitrary streams to a Reader: it must never panic, must
// agree with a trivial reference splitter, and must not allocate more than
// the data that actually arrived.
func FuzzReader(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{0, 0, 0, 2, '{', '}'}, uint16(100))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2}, uint16(0))
	f.Add([]byte{0, 0x0f, 0xff, 0xff, '{'}, uint16(0))
	f.Add(append(frame(envelopeSeeds[0]), frame(envelopeSeeds[5])...), uint16(20))
	if golden, err := os.ReadFile("testdata/capture-hub-to-spoke.bin"); err == nil {
		f.Add(golden, uint16(0))
		f.Add(golden[:200], uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit16 uint16) {
		limit := int(limit16)
		r := NewReader(bytes.NewReader(data), limit)
		if limit == 0 {
			limit = DefaultMaxFrameSize
		}
		rest := data
		for {
			e, raw, err := r.ReadEnvelope()
			if c := max(cap(r.buf), cap(raw)); c > 2*(len(data)+growStep) {
				t.Fatalf("buffer of %d bytes for a %d byte stream", c, len(data))
			}
			// The reference splitter.
			var want []byte
			var wantErr error
			switch {
			case len(rest) == 0:
				wantErr = io.EOF
			case len(rest) < 4:
				wantErr = ErrTruncated
			case uint64(binary.BigEndian.Uint32(rest)) > uint64(limit):
				wantErr = ErrFrameTooLarge
			case uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4):
				wantErr = ErrTruncated
			default:
				n := int(binary.BigEndian.Uint32(rest))
				want, rest = rest[4:4+n], rest[4+n:]
			}
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Fatalf("err %v, want %v", err, wantErr)
				}
				if _, again := r.ReadFrame(); again != err {
					t.Fatalf("stream error not sticky")
				}
				return
			}
			if !bytes.Equal(raw, want) {
				t.Fatalf("frame %q, want %q", raw, want)
			}
			if pe, perr := ParseEnvelope(want); !sameClass(err, perr) || pe.Type != e.Type || pe.ID != e.ID {
				t.Fatalf("ReadEnvelope %v / ParseEnvelope %v disagree", err, perr)
			}
		}
	})
}
