package streams

// Bounded reassembles a byte stream that has no flow control of its own,
// such as a CRYPTO stream: data past Window bytes beyond the read offset is
// refused, and so is data that would leave more than MaxHoles separate
// ranges waiting. Each push costs O(log n + holes) in the worst case, so a
// peer cannot make reassembly quadratic by sending tiny reordered pieces.
type Bounded struct {
	Window   uint64
	MaxHoles int
	r        reassembler
}

// ErrBeyondWindow and ErrTooManyHoles are Bounded's refusals; a CRYPTO
// stream maps both to CRYPTO_BUFFER_EXCEEDED.
var (
	ErrBeyondWindow = protoErr(ProtocolViolation, "data beyond the reassembly window")
	ErrTooManyHoles = protoErr(ProtocolViolation, "data too fragmented")
)

// Push stores data at off and returns the bytes that became contiguous at
// the read offset, freshly allocated (nil when none did).
func (b *Bounded) Push(off uint64, data []byte) ([]byte, error) {
	end := off + uint64(len(data))
	if end < off || end > b.r.readOff+b.Window {
		return nil, ErrBeyondWindow
	}
	if end <= b.r.readOff || len(data) == 0 {
		return nil, nil
	}
	if len(b.r.ranges) >= b.MaxHoles && b.r.wouldAddRange(max(off, b.r.readOff), end) {
		return nil, ErrTooManyHoles
	}
	if _, err := b.r.push(off, data); err != nil {
		return nil, err
	}
	n := b.r.readable()
	if n == 0 {
		return nil, nil
	}
	out := make([]byte, n)
	b.r.read(out)
	return out, nil
}

// Offset is how many bytes have been handed out.
func (b *Bounded) Offset() uint64 { return b.r.readOff }

// Pending is how many separate ranges wait for a gap to fill.
func (b *Bounded) Pending() int { return len(b.r.ranges) }

// Release returns buffered memory; later pushes start empty again.
func (b *Bounded) Release() { b.r.discard() }
