package streams

import "fmt"

// Side is the role of an endpoint in the connection; it decides the low bit
// of the stream IDs it initiates.
type Side uint8

const (
	Client Side = 0
	Server Side = 1
)

func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Peer returns the other side.
func (s Side) Peer() Side { return s ^ 1 }

// Dir is the directionality of a stream.
type Dir uint8

const (
	Bidi Dir = 0
	Uni  Dir = 1
)

func (d Dir) String() string {
	if d == Bidi {
		return "bidi"
	}
	return "uni"
}

// MaxStreamCount is the largest stream count a MAX_STREAMS frame or transport
// parameter may carry (RFC 9000 §4.6): 2^60.
const MaxStreamCount = 1 << 60

// MaxVarint is the largest value a QUIC variable-length integer can hold and
// so the largest possible stream offset or flow-control limit.
const MaxVarint = 1<<62 - 1

// StreamID is a QUIC stream identifier (RFC 9000 §2.1). Bit 0 names the
// initiator, bit 1 the directionality; the rest is the per-type index.
type StreamID uint64

// NewStreamID builds the ID of the index-th stream of the given type.
func NewStreamID(initiator Side, dir Dir, index uint64) StreamID {
	return StreamID(index<<2 | uint64(dir)<<1 | uint64(initiator))
}

// Initiator is the side that opened the stream.
func (id StreamID) Initiator() Side { return Side(id & 1) }

// Dir reports whether the stream is bidirectional or unidirectional.
func (id StreamID) Dir() Dir { return Dir(id >> 1 & 1) }

// Index is the stream's position among streams of its type (0, 1, 2, ...).
func (id StreamID) Index() uint64 { return uint64(id) >> 2 }

// IsLocal reports whether the stream was initiated by side.
func (id StreamID) IsLocal(side Side) bool { return id.Initiator() == side }

// CanSend reports whether side may send data on the stream: every
// bidirectional stream, and unidirectional streams side initiated.
func (id StreamID) CanSend(side Side) bool { return id.Dir() == Bidi || id.IsLocal(side) }

// CanRecv reports whether side may receive data on the stream.
func (id StreamID) CanRecv(side Side) bool { return id.Dir() == Bidi || !id.IsLocal(side) }

func (id StreamID) String() string {
	return fmt.Sprintf("%s-%s#%d(%d)", id.Initiator(), id.Dir(), id.Index(), uint64(id))
}
