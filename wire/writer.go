package wire

import (
	"io"
	"sync"
)

// Writer writes frames to a stream. Each frame goes out in a single Write
// call, and calls are serialised, so frames from concurrent goroutines never
// interleave. It is safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	w     io.Writer
	limit int
	buf   []byte
	err   error // sticky: after a failed Write the stream state is unknown
}

// NewWriter returns a Writer that refuses bodies longer than maxFrame bytes
// (DefaultMaxFrameSize if maxFrame <= 0).
func NewWriter(w io.Writer, maxFrame int) *Writer {
	return &Writer{w: w, limit: clampLimit(maxFrame)}
}

// WriteEnvelope encodes e (see AppendFrame) and writes it as one frame.
// Encoding errors write nothing and leave the Writer usable.
func (w *Writer) WriteEnvelope(e Envelope) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	buf, err := appendFrame(w.reuse(), e, w.limit)
	if err != nil {
		return err
	}
	return w.flush(buf)
}

// WriteRaw writes body, which must be a valid envelope (see
// ValidateEnvelope), as one frame without changing its bytes.
func (w *Writer) WriteRaw(body []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	buf, err := appendFrameRaw(w.reuse(), body, w.limit)
	if err != nil {
		return err
	}
	return w.flush(buf)
}

// Past keepBufferCap the frame buffer is dropped once written, so one huge
// frame does not pin memory while the stream idles.
const keepBufferCap = 64 << 10

func (w *Writer) reuse() []byte { return w.buf[:0] }

func (w *Writer) flush(buf []byte) error {
	w.buf = buf
	if cap(buf) > keepBufferCap {
		w.buf = nil
	}
	n, err := w.w.Write(buf)
	if err == nil && n != len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}
