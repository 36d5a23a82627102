package wire

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

const (
	// An idle Reader waits for the next frame with only smallReadSize bytes
	// of its own; while data streams in it borrows a readBufferSize buffer
	// from a pool and gives it back once it has consumed all it read.
	smallReadSize  = 512
	readBufferSize = 16 << 10
	// Bodies are received in steps of at most growStep beyond what has
	// arrived, so a lying length prefix costs memory only as data comes in.
	growStep = 64 << 10
	// maxEmptyReads is how many (0, nil) reads in a row count as a stuck
	// source.
	maxEmptyReads = 100
)

var readBuffers = sync.Pool{New: func() any { return new([readBufferSize]byte) }}

// Reader splits a byte stream into frames. It is not safe for concurrent
// use. It buffers its input, so it may read past the last frame returned.
type Reader struct {
	src   io.Reader
	limit int

	small [smallReadSize]byte
	big   *[readBufferSize]byte // borrowed from readBuffers, or nil
	rbuf  []byte                // small[:] or big[:]
	r, w  int                   // unread input is rbuf[r:w]
	rerr  error                 // error from src, reported once rbuf is used up

	buf []byte // ReadFrame's body for frames larger than rbuf
	err error  // sticky stream error
}

// NewReader returns a Reader that rejects bodies longer than maxFrame bytes
// (DefaultMaxFrameSize if maxFrame <= 0).
func NewReader(r io.Reader, maxFrame int) *Reader {
	return &Reader{src: r, limit: clampLimit(maxFrame)}
}

// ReadFrame returns the body (raw JSON bytes) of the next frame without
// looking at it. The slice is valid until the next call. A clean end of
// stream between frames gives io.EOF; an end inside a frame gives
// ErrTruncated. Stream errors (ErrFrameTooLarge, ErrTruncated, I/O errors)
// are returned again by every later call.
func (r *Reader) ReadFrame() ([]byte, error) { return r.next(false) }

// ReadEnvelope reads and parses the next frame. It returns the raw body as
// well, in a fresh buffer that the caller owns and that Payload aliases.
// After a recoverable content error (see IsRecoverable) the raw body is
// still returned and the next call reads the following frame.
func (r *Reader) ReadEnvelope() (Envelope, []byte, error) {
	raw, err := r.next(true)
	if err != nil {
		return Envelope{}, nil, err
	}
	e, err := ParseEnvelope(raw)
	return e, raw, err
}

// next reads one frame body; with owned it is a fresh slice for the
// caller, otherwise it aliases the Reader's buffers.
func (r *Reader) next(owned bool) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	body, err := r.readFrame(owned)
	if err != nil {
		// The stream is dead: keep nothing.
		r.err, r.rerr = err, nil
		r.r = r.w
		r.release()
		r.buf = nil
		return nil, err
	}
	return body, nil
}

// release gives the borrowed buffers back once all input is consumed, so a
// Reader blocked waiting for its next frame holds only r.small.
func (r *Reader) release() {
	if r.r != r.w {
		return
	}
	r.r, r.w = 0, 0
	if r.big != nil {
		readBuffers.Put(r.big)
		r.big = nil
	}
	r.rbuf = r.small[:]
	if cap(r.buf) > readBufferSize {
		r.buf = nil
	}
}

func (r *Reader) readFrame(owned bool) ([]byte, error) {
	r.release()
	if err := r.fill(4); err != nil {
		if r.w > r.r && errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		}
		return nil, err // io.EOF at a frame boundary, or an I/O error
	}
	size := binary.BigEndian.Uint32(r.rbuf[r.r:])
	r.r += 4
	if uint64(size) > uint64(r.limit) {
		return nil, tooLarge(int(size), r.limit)
	}
	n := int(size)
	if n <= readBufferSize {
		if err := r.fill(n); err != nil {
			return nil, bodyError(err)
		}
		body := r.rbuf[r.r : r.r+n]
		r.r += n
		if owned {
			return append([]byte(nil), body...), nil
		}
		return body, nil
	}
	var body []byte
	if !owned {
		body = r.buf[:0]
	}
	body, err := r.readLarge(body, n)
	if !owned {
		r.buf = body
	}
	if err != nil {
		return nil, bodyError(err)
	}
	return body, nil
}

// fill makes at least n <= readBufferSize bytes of input available in
// rbuf[r:w].
func (r *Reader) fill(n int) error {
	empty := 0
	for r.w-r.r < n {
		if r.rerr != nil {
			return r.rerr
		}
		r.makeRoom(n)
		m, err := r.src.Read(r.rbuf[r.w:])
		r.w += m
		r.rerr = err
		if m > 0 {
			empty = 0
		} else if empty++; err == nil && empty >= maxEmptyReads {
			return io.ErrNoProgress
		}
	}
	return nil
}

// makeRoom moves unread input to the front of rbuf. Once the small buffer
// is used up, data is streaming in: it switches to a pooled one.
func (r *Reader) makeRoom(n int) {
	if r.w < len(r.rbuf) && len(r.rbuf)-r.r >= n {
		return
	}
	dst := r.rbuf
	if r.big == nil {
		r.big = readBuffers.Get().(*[readBufferSize]byte)
		dst = r.big[:]
	}
	r.w = copy(dst, r.rbuf[r.r:r.w])
	r.r = 0
	r.rbuf = dst
}

// readLarge reads an n-byte body that exceeds the read buffer into body,
// first from buffered input, then straight from the source. It grows body
// at most growStep ahead of the data received.
func (r *Reader) readLarge(body []byte, n int) ([]byte, error) {
	if first := min(n, r.w-r.r+growStep); cap(body) < first {
		body = make([]byte, 0, first)
	}
	body = append(body, r.rbuf[r.r:r.w]...)
	r.r = r.w
	for len(body) < n {
		if r.rerr != nil {
			return body, r.rerr
		}
		have := len(body)
		want := min(n, cap(body))
		if want == have {
			want = min(n, have+growStep)
			body = append(body, make([]byte, want-have)...)
		}
		body = body[:want]
		m, err := io.ReadFull(r.src, body[have:want])
		body = body[:have+m]
		if err != nil {
			return body, err
		}
	}
	return body, nil
}

func bodyError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}
