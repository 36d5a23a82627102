package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
)

// recorder keeps every Write call separately.
type recorder struct {
	mu     sync.Mutex
	writes [][]byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestWriterOneWritePerFrame(t *testing.T) {
	var rec recorder
	w := NewWriter(&rec, 0)
	e := Envelope{Type: "a", ID: "1", Payload: []byte(` [1, 2] `)}
	if err := w.WriteEnvelope(e); err != nil {
		t.Fatal(err)
	}
	raw := []byte(` {"id":"2", "type":"b"} `)
	if err := w.WriteRaw(raw); err != nil {
		t.Fatal(err)
	}
	want0, _ := AppendFrame(nil, e)
	if len(rec.writes) != 2 || !bytes.Equal(rec.writes[0], want0) || !bytes.Equal(rec.writes[1], frame(string(raw))) {
		t.Fatalf("writes = %q", rec.writes)
	}
}

func TestWriterConcurrent(t *testing.T) {
	var rec recorder
	w := NewWriter(&rec, 0)
	const goroutines, perG = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				e := Envelope{Type: "t", ID: fmt.Sprintf("%d-%d", g, i), Payload: makePayload(50 + 300*(i%4))}
				var err error
				if i%2 == 0 {
					err = w.WriteEnvelope(e)
				} else {
					body, _ := AppendFrame(nil, e)
					err = w.WriteRaw(body[4:])
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(rec.writes) != goroutines*perG {
		t.Fatalf("%d writes", len(rec.writes))
	}
	seen := map[string]bool{}
	r := NewReader(bytes.NewReader(bytes.Join(rec.writes, nil)), 0)
	for _, wr := range rec.writes {
		// Each Write must hold exactly one whole frame.
		if n := int(wr[0])<<24 | int(wr[1])<<16 | int(wr[2])<<8 | int(wr[3]); n != len(wr)-4 {
			t.Fatalf("write of %d bytes has prefix %d", len(wr), n)
		}
		e, _, err := r.ReadEnvelope()
		if err != nil {
			t.Fatal(err)
		}
		seen[e.ID] = true
	}
	if len(seen) != goroutines*perG {
		t.Fatalf("%d distinct frames", len(seen))
	}
}

type shortWriter struct{ calls int }

func (s *shortWriter) Write(p []byte) (int, error) { s.calls++; return len(p) / 2, nil }

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }

func TestWriterErrors(t *testing.T) {
	e := Envelope{Type: "a", ID: "1"}

	sw := &shortWriter{}
	w := NewWriter(sw, 0)
	if err := w.WriteEnvelope(e); err != io.ErrShortWrite {
		t.Fatalf("short write: %v", err)
	}
	if err := w.WriteRaw([]byte(`{"type":"a","id":"1"}`)); err != io.ErrShortWrite || sw.calls != 1 {
		t.Fatalf("short write not sticky: %v, %d calls", err, sw.calls)
	}

	boom := errors.New("closed")
	w = NewWriter(errWriter{boom}, 0)
	if err := w.WriteEnvelope(e); err != boom {
		t.Fatalf("write error: %v", err)
	}

	// Content errors write nothing and do not poison the Writer.
	var rec recorder
	w = NewWriter(&rec, 40)
	for _, tc := range []struct {
		write func() error
		want  error
	}{
		{func() error { return w.WriteEnvelope(Envelope{Type: "\xff", ID: "1"}) }, ErrInvalidUTF8},
		{func() error { return w.WriteEnvelope(Envelope{Type: "a", ID: "1", Payload: []byte("[")}) }, ErrInvalidJSON},
		{func() error { return w.WriteEnvelope(Envelope{Type: "a", ID: "1", Payload: []byte(`"0123456789"`)}) }, ErrFrameTooLarge},
		{func() error { return w.WriteRaw([]byte(`{"type":"a"}`)) }, ErrMissingID},
		{func() error { return w.WriteRaw([]byte(`{"type":"a","id":"1","x":"0123456789abcdef"}`)) }, ErrFrameTooLarge},
		{func() error { return w.WriteEnvelope(e) }, nil},
	} {
		if err := tc.write(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("err = %v, want %v", err, tc.want)
		}
	}
	if len(rec.writes) != 1 {
		t.Fatalf("%d writes, want only the valid one", len(rec.writes))
	}
}

func TestWriterReleasesHugeBuffer(t *testing.T) {
	w := NewWriter(io.Discard, 0)
	if err := w.WriteEnvelope(Envelope{Type: "a", ID: "1", Payload: makePayload(2 << 20)}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEnvelope(Envelope{Type: "a", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	if cap(w.buf) > keepBufferCap {
		t.Fatalf("writer kept a %d byte buffer", cap(w.buf))
	}
}

func TestClampLimit(t *testing.T) {
	cases := map[int]int{-1: DefaultMaxFrameSize, 0: DefaultMaxFrameSize, 5: 5}
	if strconv.IntSize == 64 {
		shift := 40 // not constants, so 32-bit builds compile
		cases[int(uint64(1)<<shift)] = int(uint64(1)<<(shift-8) - 1)
	}
	for in, want := range cases {
		if got := clampLimit(in); got != want {
			t.Errorf("clampLimit(%d) = %d", in, got)
		}
	}
}
