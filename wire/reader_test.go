package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReaderStreams(t *testing.T) {
	good := frame(`{"type":"a","id":"1","payload":{"x":[1,2]}}`)
	tests := []struct {
		name    string
		stream  []byte
		limit   int
		nFrames int   // frames returned before the error
		err     error // final error
	}{
		{"empty stream", nil, 0, 0, io.EOF},
		{"one frame", good, 0, 1, io.EOF},
		{"two frames", append(append([]byte{}, good...), good...), 0, 2, io.EOF},
		{"eof in prefix 1", []byte{0}, 0, 0, ErrTruncated},
		{"eof in prefix 3", []byte{0, 0, 0}, 0, 0, ErrTruncated},
		{"eof after prefix", []byte{0, 0, 0, 5}, 0, 0, ErrTruncated},
		{"eof in body", []byte{0, 0, 0, 5, '{'}, 0, 0, ErrTruncated},
		{"eof in second prefix", append(append([]byte{}, good...), 0, 0), 0, 1, ErrTruncated},
		{"too large", []byte{0, 0, 0, 11, '{'}, 10, 0, ErrFrameTooLarge},
		{"max u32 prefix", []byte{0xff, 0xff, 0xff, 0xff}, 0, 0, ErrFrameTooLarge},
		{"default limit + 1", []byte{0x01, 0x00, 0x00, 0x01}, 0, 0, ErrFrameTooLarge},
		{"exactly the limit", frame(`{"type":"a","id":"1"}`), len(`{"type":"a","id":"1"}`), 1, io.EOF},
		{"empty body", []byte{0, 0, 0, 0}, 0, 1, io.EOF}, // ReadFrame does not judge content
	}
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			r := NewReader(wrap(bytes.NewReader(tt.stream)), tt.limit)
			n := 0
			var err error
			for {
				var body []byte
				if body, err = r.ReadFrame(); err != nil {
					break
				}
				n++
				if len(body) > 1<<20 {
					t.Fatalf("absurd body")
				}
			}
			if n != tt.nFrames || !errors.Is(err, tt.err) {
				t.Errorf("%s/%s: %d frames, err %v; want %d, %v", tt.name, rname, n, err, tt.nFrames, tt.err)
			}
			if IsRecoverable(err) {
				t.Errorf("%s: stream error %v reported recoverable", tt.name, err)
			}
			if _, again := r.ReadFrame(); again != err {
				t.Errorf("%s/%s: error not sticky: %v then %v", tt.name, rname, err, again)
			}
		}
	}
	if !errors.Is(ErrTruncated, io.ErrUnexpectedEOF) {
		t.Error("ErrTruncated must wrap io.ErrUnexpectedEOF")
	}
}

// Content errors consume exactly one frame, and reading goes on.
func TestReaderRecoversFromBadFrames(t *testing.T) {
	bodies := []struct {
		body string
		err  error
	}{
		{`{"type":"a","id":"1","payload":1}`, nil},
		{`{"type":"a","id":"1","payload":`, ErrInvalidJSON},
		{"{\"type\":\"\xff\",\"id\":\"1\"}", ErrInvalidUTF8},
		{`{"id":"1"}`, ErrMissingType},
		{`{"type":"a"}`, ErrMissingID},
		{`{"type":"a","type":"a","id":"1"}`, ErrDuplicateKey},
		{``, ErrInvalidJSON},
		{`{"type":"b","id":"2"}`, nil},
	}
	var stream []byte
	for _, b := range bodies {
		stream = append(stream, frame(b.body)...)
	}
	r := NewReader(iotest.OneByteReader(bytes.NewReader(stream)), 0)
	for i, want := range bodies {
		e, raw, err := r.ReadEnvelope()
		if !errors.Is(err, want.err) || (want.err == nil) != (err == nil) {
			t.Fatalf("frame %d: err %v, want %v", i, err, want.err)
		}
		if err != nil && !IsRecoverable(err) {
			t.Fatalf("frame %d: %v not recoverable", i, err)
		}
		if string(raw) != want.body {
			t.Fatalf("frame %d: raw %q, want %q", i, raw, want.body)
		}
		if err == nil && e.Type == "" {
			t.Fatalf("frame %d: empty envelope", i)
		}
	}
	if _, _, err := r.ReadEnvelope(); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
}

// ReadEnvelope results stay valid while later frames are read.
func TestReadEnvelopeOwnsItsBuffer(t *testing.T) {
	stream := append(frame(`{"type":"a","id":"1","payload":[1]}`), frame(`{"type":"b","id":"2","payload":[2]}`)...)
	r := NewReader(bytes.NewReader(stream), 0)
	e1, raw1, err := r.ReadEnvelope()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.ReadEnvelope(); err != nil {
		t.Fatal(err)
	}
	if string(e1.Payload) != "[1]" || !strings.Contains(string(raw1), `"a"`) {
		t.Fatalf("first envelope clobbered: %s %s", e1.Payload, raw1)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReaderIOError(t *testing.T) {
	boom := errors.New("stream reset")
	// The error arrives mid-body: it is passed through, not turned into ErrTruncated.
	r := NewReader(io.MultiReader(bytes.NewReader([]byte{0, 0, 0, 9, '{'}), failingReader{boom}), 0)
	if _, err := r.ReadFrame(); err != boom {
		t.Fatalf("mid-body: %v", err)
	}
	r = NewReader(failingReader{boom}, 0)
	if _, _, err := r.ReadEnvelope(); err != boom || IsRecoverable(err) {
		t.Fatalf("at a boundary: %v", err)
	}
}

// A length prefix that lies costs memory only for data that really arrives.
func TestReaderGrowsWithData(t *testing.T) {
	stream := append([]byte{0x00, 0xff, 0xff, 0xff}, make([]byte, 1000)...) // claims 16 MiB - 1
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := NewReader(bytes.NewReader(stream), 0)
	if _, err := r.ReadFrame(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 2*growStep {
		t.Fatalf("reading 1000 bytes of a huge frame allocated %d bytes", n)
	}
	// A prefix above the limit is rejected before any body buffer exists.
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		r := NewReader(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), 0)
		if _, err := r.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 10*(readBufferSize+4096) {
		t.Fatalf("rejecting huge prefixes allocated %d bytes", n)
	}
}

func TestReaderLargeFramesAndBufferRelease(t *testing.T) {
	payload := `"` + strings.Repeat("x", 3<<20) + `"`
	big := `{"type":"big","id":"1","payload":` + payload + `}`
	small := `{"type":"s","id":"2"}`
	stream := append(append(frame(big), frame(small)...), frame(big)...)
	r := NewReader(iotest.HalfReader(bytes.NewReader(stream)), 0)
	for i, want := range []string{big, small, big} {
		body, err := r.ReadFrame()
		if err != nil || string(body) != want {
			t.Fatalf("frame %d: %d bytes, %v", i, len(body), err)
		}
		if i == 1 && cap(r.buf) > keepBufferCap {
			t.Fatalf("3 MiB buffer kept for a small frame")
		}
	}
	e, _, err := NewReader(bytes.NewReader(frame(big)), 0).ReadEnvelope()
	if err != nil || len(e.Payload) != len(payload) {
		t.Fatalf("big envelope: %v", err)
	}
}

func TestReaderReadsCaptureOneByteAtATime(t *testing.T) {
	stream := append(frame(`{"type":"t","id":"x","payload":"é😀"}`), frame(`{"type":"u","id":"y"}`)...)
	r := NewReader(iotest.OneByteReader(bytes.NewReader(stream)), 0)
	e, _, err := r.ReadEnvelope()
	if err != nil || e.Type != "t" || string(e.Payload) != `"é😀"` {
		t.Fatalf("%+v %v", e, err)
	}
	e, _, err = r.ReadEnvelope()
	if err != nil || e.ID != "y" || e.Payload != nil {
		t.Fatalf("%+v %v", e, err)
	}
}

// Frames around the buffer sizes arrive intact however the source splits
// its data, through both ReadFrame and ReadEnvelope.
func TestReaderFrameSizes(t *testing.T) {
	var bodies []string
	for _, size := range []int{2, smallReadSize - 4, smallReadSize, smallReadSize + 1, 3000,
		readBufferSize - 1, readBufferSize, readBufferSize + 1, growStep + 7, 3 * growStep} {
		payload := `"` + strings.Repeat("y", max(size-40, 0)) + `"`
		bodies = append(bodies, `{"type":"t","id":"`+fmt.Sprint(size)+`","payload":`+payload+`}`)
	}
	var stream []byte
	for _, b := range bodies {
		stream = append(stream, frame(b)...)
	}
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+err": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		r := NewReader(wrap(bytes.NewReader(stream)), 0)
		e := NewReader(wrap(bytes.NewReader(stream)), 0)
		var raws [][]byte
		for i, want := range bodies {
			body, err := r.ReadFrame()
			if err != nil || string(body) != want {
				t.Fatalf("%s: ReadFrame %d: %d bytes, %v", name, i, len(body), err)
			}
			env, raw, err := e.ReadEnvelope()
			if err != nil || string(raw) != want || env.Type != "t" {
				t.Fatalf("%s: ReadEnvelope %d: %d bytes, %v", name, i, len(raw), err)
			}
			raws = append(raws, raw)
		}
		for _, rd := range []*Reader{r, e} {
			if _, err := rd.ReadFrame(); err != io.EOF {
				t.Fatalf("%s: end: %v", name, err)
			}
		}
		for i, raw := range raws { // owned bodies survive later reads
			if string(raw) != bodies[i] {
				t.Fatalf("%s: raw body %d was overwritten", name, i)
			}
		}
	}
}

// A Reader that has consumed everything it read holds only its small
// inline buffer while it waits for the next frame.
func TestReaderIdleHoldsNoBuffers(t *testing.T) {
	big := `{"type":"big","id":"1","payload":"` + strings.Repeat("z", 40<<10) + `"}`
	small := `{"type":"s","id":"2"}`
	mid := `{"type":"m","id":"3","payload":"` + strings.Repeat("m", 3000) + `"}`
	src := &watchingReader{}
	r := NewReader(src, 0)
	src.r = r
	for _, body := range []string{small, big, mid, small} {
		src.chunks = append(src.chunks, frame(body))
	}
	for range 4 {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// Each frame starts with a drained Reader (one chunk per frame).
	if len(src.idle) != 5 {
		t.Fatalf("%d reads at frame starts, want 5: %q", len(src.idle), src.idle)
	}
	for i, held := range src.idle {
		if held != "" {
			t.Errorf("frame start %d: reader held %s", i, held)
		}
	}
}

// watchingReader serves one chunk per Read (like a stream whose data
// arrives in bursts) and records what its Reader holds whenever it is
// asked for data at a chunk boundary, which is where a real stream would
// block.
type watchingReader struct {
	r      *Reader
	chunks [][]byte
	midway bool // the first chunk is partly read
	idle   []string
}

func (w *watchingReader) Read(p []byte) (int, error) {
	if !w.midway {
		held := ""
		if w.r.big != nil || cap(w.r.buf) > 0 || len(p) > smallReadSize {
			held = fmt.Sprintf("big=%v buf=%d read=%d", w.r.big != nil, cap(w.r.buf), len(p))
		}
		w.idle = append(w.idle, held)
	}
	if len(w.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, w.chunks[0])
	w.chunks[0], w.midway = w.chunks[0][n:], true
	if len(w.chunks[0]) == 0 {
		w.chunks, w.midway = w.chunks[1:], false
	}
	return n, nil
}

// A source that keeps returning nothing is an error, not a hang.
func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(emptyReader{}, 0).ReadFrame(); err != io.ErrNoProgress {
		t.Fatalf("err = %v", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
