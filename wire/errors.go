package wire

import (
	"errors"
	"fmt"
	"io"
)

// Content errors: the frame was well delimited but its JSON is unacceptable.
// The Reader has consumed the whole frame, so reading may continue.
var (
	ErrInvalidUTF8  = errors.New("wire: frame is not valid UTF-8")
	ErrInvalidJSON  = errors.New("wire: frame is not a valid JSON object")
	ErrMissingType  = errors.New("wire: envelope has no string \"type\"")
	ErrMissingID    = errors.New("wire: envelope has no string \"id\"")
	ErrDuplicateKey = errors.New("wire: envelope member appears twice")
)

// Stream errors: the byte stream can no longer be split into frames.
var (
	// ErrFrameTooLarge reports a length prefix (or an encoded frame) above
	// the size limit. The body is never read, so the stream is out of sync.
	ErrFrameTooLarge = errors.New("wire: frame too large")
	// ErrTruncated reports an EOF inside a length prefix or a body. It wraps
	// io.ErrUnexpectedEOF.
	ErrTruncated = fmt.Errorf("wire: truncated frame: %w", io.ErrUnexpectedEOF)
)

// IsRecoverable reports whether err concerned only the content of one frame,
// which was consumed completely, so that the caller may go on reading frames
// from the same Reader (for example after answering with an error envelope).
// It is false for nil, io.EOF, ErrFrameTooLarge, ErrTruncated and I/O errors.
func IsRecoverable(err error) bool {
	return errors.Is(err, ErrInvalidUTF8) ||
		errors.Is(err, ErrInvalidJSON) ||
		errors.Is(err, ErrMissingType) ||
		errors.Is(err, ErrMissingID) ||
		errors.Is(err, ErrDuplicateKey)
}

// syntaxError wraps ErrInvalidJSON with the byte offset of the problem.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("wire: invalid JSON at offset %d: %s", e.offset, e.msg)
}

func (e *syntaxError) Unwrap() error { return ErrInvalidJSON }
