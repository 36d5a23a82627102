package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxResponseHeaderBytes bounds the status line and headers of a response
// the client reads (and what it drains of a refusal's body). A relay's
// answer is a few hundred bytes; without a bound a hostile server can
// make the client buffer header lines until it runs out of memory.
const MaxResponseHeaderBytes = 16 << 10

// ErrResponseHeaderTooLarge: the response head did not end within
// MaxResponseHeaderBytes.
var ErrResponseHeaderTooLarge = fmt.Errorf("websocket: response headers exceed %d bytes", MaxResponseHeaderBytes)

// headLimiter passes at most left bytes through until lifted.
type headLimiter struct {
	r    io.Reader
	left int // < 0 once lifted
}

func (h *headLimiter) Read(p []byte) (int, error) {
	if h.left < 0 {
		return h.r.Read(p)
	}
	if h.left == 0 {
		return 0, ErrResponseHeaderTooLarge
	}
	n, err := h.r.Read(p[:min(len(p), h.left)])
	h.left -= n
	return n, err
}

func (h *headLimiter) lift() { h.left = -1 }

// readResponseHead reads a response to a method request from r through
// the limit; the returned reader keeps the bytes read past the head.
func readResponseHead(r io.Reader, method string) (*http.Response, *bufio.Reader, *headLimiter, error) {
	hl := &headLimiter{r: r, left: MaxResponseHeaderBytes}
	br := bufio.NewReaderSize(hl, 16<<10)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil && errors.Is(err, ErrResponseHeaderTooLarge) {
		err = ErrResponseHeaderTooLarge // drop textproto's wrapping
	}
	return resp, br, hl, err
}

// ReadResponseHead reads a response to a method request (an HTTP proxy's
// answer to CONNECT, say) from r. At most MaxResponseHeaderBytes are
// read, now or later through the returned reader or the body.
func ReadResponseHead(r io.Reader, method string) (*http.Response, *bufio.Reader, error) {
	resp, br, _, err := readResponseHead(r, method)
	return resp, br, err
}
