package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

const (
	readBufferSize = 16 << 10
	// Past keepBufferCap the frame buffer is dropped once a small frame
	// arrives, so one huge frame does not pin memory for the stream's life.
	keepBufferCap = 1 << 20
	// Bodies are received in steps of at most growStep beyond what has
	// arrived, so a lying length prefix costs memory only as data comes in.
	growStep = 64 << 10
)

// Reader splits a byte stream into frames. It is not safe for concurrent
// use. It buffers its input, so it may read past the last frame returned.
type Reader struct {
	br    *bufio.Reader
	limit int
	buf   []byte
	err   error // sticky stream error
}

// NewReader returns a Reader that rejects bodies longer than maxFrame bytes
// (DefaultMaxFrameSize if maxFrame <= 0).
func NewReader(r io.Reader, maxFrame int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, readBufferSize), limit: clampLimit(maxFrame)}
}

// ReadFrame returns the body (raw JSON bytes) of the next frame without
// looking at it. The slice is valid until the next call. A clean end of
// stream between frames gives io.EOF; an end inside a frame gives
// ErrTruncated. Stream errors (ErrFrameTooLarge, ErrTruncated, I/O errors)
// are returned again by every later call.
func (r *Reader) ReadFrame() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	body, err := r.readFrame()
	if err != nil {
		r.err = err
		return nil, err
	}
	return body, nil
}

func (r *Reader) readFrame() ([]byte, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r.br, prefix[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, err // io.EOF at a frame boundary, or an I/O error
	}
	size := binary.BigEndian.Uint32(prefix[:])
	if uint64(size) > uint64(r.limit) {
		return nil, tooLarge(int(size), r.limit)
	}
	n := int(size)
	if n <= growStep && cap(r.buf) > keepBufferCap {
		r.buf = nil
	}
	if n <= cap(r.buf) {
		r.buf = r.buf[:n]
		if _, err := io.ReadFull(r.br, r.buf); err != nil {
			return nil, bodyError(err)
		}
		return r.buf, nil
	}
	// Grow while reading, never more than growStep ahead of the data.
	r.buf = r.buf[:0]
	for len(r.buf) < n {
		have := len(r.buf)
		want := min(n, have+growStep)
		if want > cap(r.buf) {
			r.buf = append(r.buf, make([]byte, want-have)...)
		}
		r.buf = r.buf[:want]
		if _, err := io.ReadFull(r.br, r.buf[have:want]); err != nil {
			return nil, bodyError(err)
		}
	}
	return r.buf, nil
}

func bodyError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

// ReadEnvelope reads and parses the next frame. It returns the raw body as
// well, in a fresh buffer that the caller owns and that Payload aliases.
// After a recoverable content error (see IsRecoverable) the raw body is
// still returned and the next call reads the following frame.
func (r *Reader) ReadEnvelope() (Envelope, []byte, error) {
	body, err := r.ReadFrame()
	if err != nil {
		return Envelope{}, nil, err
	}
	raw := make([]byte, len(body))
	copy(raw, body)
	e, err := ParseEnvelope(raw)
	return e, raw, err
}
