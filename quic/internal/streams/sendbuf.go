package streams

// sendQueue holds the application's unacknowledged bytes for one stream:
// offsets [base, base+len). It is a slice with a moving head that is
// compacted once the dead prefix dominates, so views stay contiguous and
// the copy cost is amortized O(1) per byte.
type sendQueue struct {
	buf  []byte
	head int
	base uint64 // stream offset of buf[head]
}

func (q *sendQueue) len() int { return len(q.buf) - q.head }

// end is the offset just past the buffered data.
func (q *sendQueue) end() uint64 { return q.base + uint64(q.len()) }

func (q *sendQueue) write(p []byte) {
	if q.buf == nil {
		q.buf = make([]byte, 0, max(len(p), 1024))
	}
	q.buf = append(q.buf, p...)
}

// view returns up to n bytes starting at stream offset off (>= base).
func (q *sendQueue) view(off uint64, n int) []byte {
	i := q.head + int(off-q.base)
	return q.buf[i : i+n : i+n]
}

// advance drops bytes below offset off.
func (q *sendQueue) advance(off uint64) {
	if off <= q.base {
		return
	}
	q.head += int(off - q.base)
	q.base = off
	switch {
	case q.head == len(q.buf):
		q.buf, q.head = q.buf[:0], 0
	case q.head >= 4096 && q.head >= len(q.buf)/2:
		n := copy(q.buf, q.buf[q.head:])
		q.buf, q.head = q.buf[:n], 0
	}
}

// release frees the memory once the stream no longer needs its data.
func (q *sendQueue) release() {
	q.base = q.end()
	q.buf, q.head = nil, 0
}
