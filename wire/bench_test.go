package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

var benchSizes = []struct {
	name string
	size int
}{{"small", 100}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

func benchEnvelope(size int) Envelope {
	return Envelope{Type: "bench.event", ID: "0123456789", Payload: makePayload(size)}
}

func reportEnvelopes(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "envelopes/s")
}

func BenchmarkEncode(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			e := benchEnvelope(bs.size)
			w := NewWriter(io.Discard, 0)
			frameLen, _ := AppendFrame(nil, e)
			b.SetBytes(int64(len(frameLen)))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.WriteEnvelope(e); err != nil {
					b.Fatal(err)
				}
			}
			reportEnvelopes(b)
		})
	}
}

// loopReader serves the same stream forever without allocating.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.off == len(l.data) {
		l.off = 0
	}
	n := copy(p, l.data[l.off:])
	l.off += n
	return n, nil
}

func BenchmarkDecode(b *testing.B) {
	for _, bs := range benchSizes {
		b.Run(bs.name, func(b *testing.B) {
			fr, _ := AppendFrame(nil, benchEnvelope(bs.size))
			r := NewReader(&loopReader{data: fr}, 0)
			b.SetBytes(int64(len(fr)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := r.ReadEnvelope(); err != nil {
					b.Fatal(err)
				}
			}
			reportEnvelopes(b)
		})
	}
}

// BenchmarkParse isolates parsing from framing; the stdlib variant is the
// obvious alternative (json.Unmarshal into a struct with a RawMessage).
func BenchmarkParse(b *testing.B) {
	for _, bs := range benchSizes {
		body, _ := AppendFrame(nil, benchEnvelope(bs.size))
		body = body[4:]
		b.Run("wire/"+bs.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseEnvelope(body); err != nil {
					b.Fatal(err)
				}
			}
			reportEnvelopes(b)
		})
		b.Run("stdlib/"+bs.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var e struct {
					Type, ID *string
					Payload  json.RawMessage
				}
				if err := json.Unmarshal(body, &e); err != nil || e.Type == nil {
					b.Fatal(err)
				}
			}
			reportEnvelopes(b)
		})
	}
}

func BenchmarkWriteRaw(b *testing.B) {
	body, _ := AppendFrame(nil, benchEnvelope(1<<10))
	body = body[4:]
	w := NewWriter(io.Discard, 0)
	b.SetBytes(int64(len(body) + 4))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteRaw(body); err != nil {
			b.Fatal(err)
		}
	}
	reportEnvelopes(b)
}

func ExampleWriter() {
	var stream bytes.Buffer
	w := NewWriter(&stream, 0)
	w.WriteEnvelope(Envelope{Type: "chat", ID: "1", Payload: json.RawMessage(`{"text": "hi"}`)})
	r := NewReader(&stream, 0)
	e, raw, _ := r.ReadEnvelope()
	fmt.Println(e.Type, e.ID, string(e.Payload))
	fmt.Println(string(raw))
	// Output:
	// chat 1 {"text":"hi"}
	// {"type":"chat","id":"1","payload":{"text":"hi"}}
}
