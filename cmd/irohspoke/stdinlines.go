package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader reads input lines of at most max bytes. A longer line is
// skipped to its end and reported by its length, so one bad line neither
// ends the input nor leaks into the next.
type lineReader struct {
	r   *bufio.Reader
	max int
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its line ending. For a line over the
// limit it returns a nil line and the line's length; at the end of the
// input, io.EOF.
func (l *lineReader) next() (line []byte, tooLong int, err error) {
	n := 0
	for {
		chunk, err := l.r.ReadSlice('\n')
		n += len(chunk)
		if n <= l.max+1 { // +1: the newline does not count
			line = append(line, chunk...)
		} else {
			line = nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && n > 0 {
			err = nil // a last line without a newline
		}
		if err != nil {
			return nil, 0, err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) > l.max || (line == nil && n > 0) {
			return nil, n, nil
		}
		return line, 0, nil
	}
}
