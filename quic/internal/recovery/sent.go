package recovery

import "time"

// SentPacket is what loss detection remembers about one sent packet.
//
// Payload is the caller's handle for the packet's contents (for example an
// index into its own table of retransmittable frames, or a small struct).
// It is stored by value in a reused ring, so recording a packet does not
// allocate once the ring has grown to the connection's window.
type SentPacket[T any] struct {
	Number       uint64
	TimeSent     time.Time
	Size         int  // bytes counted against the congestion window
	AckEliciting bool // carries a frame other than ACK, PADDING, CONNECTION_CLOSE
	InFlight     bool // counts toward bytes in flight (ack-eliciting or padded)
	// MTUProbe marks a PMTU probe: its loss says the packet was too big,
	// not that the path is congested (RFC 9000 §14.4).
	MTUProbe bool
	Payload  T
}

type packetState uint8

const (
	stateOutstanding packetState = iota
	stateAcked
	stateLost
)

type sentEntry[T any] struct {
	pkt   SentPacket[T]
	state packetState
}

// sentHistory is a ring of sent packets in packet-number order. Acked and
// lost packets become tombstones and are dropped once they reach the front,
// so lookups stay a binary search over a contiguous, sorted ring.
type sentHistory[T any] struct {
	buf  []sentEntry[T] // length is zero or a power of two
	head int
	n    int
	peak int // largest n since the ring last emptied

	quiet     int // rings emptied in a row with a small peak
	quietPeak int // largest peak of those

	ackElicitingInFlight int
	bytesInFlight        int
}

func (h *sentHistory[T]) len() int { return h.n }

func (h *sentHistory[T]) at(i int) *sentEntry[T] {
	return &h.buf[(h.head+i)&(len(h.buf)-1)]
}

func (h *sentHistory[T]) push(p SentPacket[T]) {
	if h.n == len(h.buf) {
		h.grow()
	}
	e := h.at(h.n)
	e.pkt, e.state = p, stateOutstanding
	h.n++
	h.peak = max(h.peak, h.n)
	if p.InFlight {
		h.bytesInFlight += p.Size
		if p.AckEliciting {
			h.ackElicitingInFlight++
		}
	}
}

// Ring sizes: an idle connection keeps only a few packets in flight (a PING,
// an ACK-eliciting reply), so the ring starts small and doubles on demand.
// It shrinks to twice its recent peak once it has emptied quietRounds times
// in a row with a peak of at most a quarter of its size: a bulk sender,
// whose ring mostly fills between empties, keeps its size; a connection gone
// quiet shrinks after a few acknowledged PINGs.
const (
	minSentRing    = 8
	shrinkSentRing = 4
	quietRounds    = 4
)

func (h *sentHistory[T]) grow() { h.resize(max(minSentRing, 2*len(h.buf))) }

func (h *sentHistory[T]) resize(size int) {
	buf := make([]sentEntry[T], size)
	for i := 0; i < h.n; i++ {
		buf[i] = *h.at(i)
	}
	h.buf, h.head = buf, 0
}

// shrink runs after trim; see minSentRing.
func (h *sentHistory[T]) shrink() {
	if h.n != 0 {
		return
	}
	peak := h.peak
	h.peak = 0
	if len(h.buf) <= minSentRing || peak > len(h.buf)/shrinkSentRing {
		h.quiet, h.quietPeak = 0, 0
		return
	}
	h.quiet++
	h.quietPeak = max(h.quietPeak, peak)
	if h.quiet < quietRounds {
		return
	}
	size := minSentRing
	for size < 2*h.quietPeak {
		size *= 2
	}
	h.buf, h.head = make([]sentEntry[T], size), 0
	h.quiet, h.quietPeak = 0, 0
}

// search returns the index of the first entry numbered at least pn.
func (h *sentHistory[T]) search(pn uint64) int {
	lo, hi := 0, h.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h.at(mid).pkt.Number < pn {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// settle marks an outstanding entry acked or lost and removes it from the
// in-flight counts.
func (h *sentHistory[T]) settle(e *sentEntry[T], to packetState) {
	e.state = to
	if e.pkt.InFlight {
		h.bytesInFlight -= e.pkt.Size
		if e.pkt.AckEliciting {
			h.ackElicitingInFlight--
		}
	}
}

// trim drops settled entries from the front, clearing payloads so the
// caller's handles do not outlive their packets.
func (h *sentHistory[T]) trim() {
	var zero sentEntry[T]
	for h.n > 0 && h.buf[h.head].state != stateOutstanding {
		h.buf[h.head] = zero
		h.head = (h.head + 1) & (len(h.buf) - 1)
		h.n--
	}
	h.shrink()
}

// clear empties the history, calling keep for every outstanding packet.
func (h *sentHistory[T]) clear(keep func(SentPacket[T])) {
	var zero sentEntry[T]
	for i := 0; i < h.n; i++ {
		e := h.at(i)
		if e.state == stateOutstanding && keep != nil {
			keep(e.pkt)
		}
		*e = zero
	}
	*h = sentHistory[T]{}
}
