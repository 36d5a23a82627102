package streams

import (
	"sort"
	"sync"
)

// blockSize is the granularity of receive-buffer allocation. Memory for a
// stream grows only with the bytes actually received, rounded to blocks, and
// never past the advertised window (plus one block for alignment).
const blockSize = 4096

// maxRanges caps how many disjoint received ranges (holes) one stream may
// hold. A peer that fragments its data further is misbehaving: a window of
// 1 MB split into single bytes would otherwise cost far more bookkeeping
// than data.
const maxRanges = 1024

type block = [blockSize]byte

var blockPool = sync.Pool{New: func() any { return new(block) }}

// reassembler rebuilds an ordered byte stream from out-of-order, overlapping
// and duplicate pieces (RFC 9000 §2.2). It does no limit checks itself: the
// caller enforces flow control and final size before push.
type reassembler struct {
	readOff uint64   // bytes already handed to the application
	ranges  rangeSet // received bytes at or above readOff
	base    uint64   // block number of blocks[0]
	blocks  []*block // blocks[i] holds bytes of block base+i; nil if untouched
}

var errTooFragmented = protoErr(ProtocolViolation, "stream data too fragmented")

// push stores data at offset off. Bytes below readOff are dropped; bytes
// already present are overwritten with (what must be) the same content.
// It reports whether the readable prefix grew.
func (r *reassembler) push(off uint64, data []byte) (readable bool, err error) {
	end := off + uint64(len(data))
	if end <= r.readOff {
		return false, nil
	}
	if off < r.readOff {
		data = data[r.readOff-off:]
		off = r.readOff
	}
	if len(data) == 0 {
		return false, nil
	}
	if len(r.ranges) >= maxRanges && r.wouldAddRange(off, end) {
		return false, errTooFragmented
	}
	before := r.readable()
	r.store(off, data)
	r.ranges.add(off, end)
	return r.readable() > before, nil
}

// wouldAddRange reports whether adding [start, end) would create a new,
// separate range rather than extend or merge existing ones.
func (r *reassembler) wouldAddRange(start, end uint64) bool {
	s := r.ranges
	i := sort.Search(len(s), func(k int) bool { return s[k].end >= start })
	return i == len(s) || s[i].start > end
}

func (r *reassembler) store(off uint64, data []byte) {
	if len(r.blocks) == 0 {
		r.base = r.readOff / blockSize
	}
	for len(data) > 0 {
		bn := off / blockSize
		idx := int(bn - r.base)
		for len(r.blocks) <= idx {
			r.blocks = append(r.blocks, nil)
		}
		b := r.blocks[idx]
		if b == nil {
			b = blockPool.Get().(*block)
			r.blocks[idx] = b
		}
		n := copy(b[off%blockSize:], data)
		data = data[n:]
		off += uint64(n)
	}
}

// readable is the number of contiguous bytes available at readOff.
func (r *reassembler) readable() uint64 {
	if len(r.ranges) == 0 || r.ranges[0].start != r.readOff {
		return 0
	}
	return r.ranges[0].end - r.readOff
}

// read copies contiguous data into p and frees blocks that were fully read.
func (r *reassembler) read(p []byte) int {
	avail := r.readable()
	if avail == 0 || len(p) == 0 {
		return 0
	}
	if uint64(len(p)) > avail {
		p = p[:avail]
	}
	total := 0
	for len(p) > 0 {
		b := r.blocks[0]
		n := copy(p, b[r.readOff%blockSize:])
		p = p[n:]
		total += n
		r.readOff += uint64(n)
		if r.readOff%blockSize == 0 {
			r.dropFirstBlock()
		}
	}
	if r.readOff == r.ranges[0].end {
		r.ranges.popFront()
		if len(r.ranges) == 0 {
			r.discard() // nothing unread left: return the partial block too
		}
	} else {
		r.ranges[0].start = r.readOff
	}
	return total
}

func (r *reassembler) dropFirstBlock() {
	if b := r.blocks[0]; b != nil {
		blockPool.Put(b)
	}
	r.blocks[0] = nil
	r.blocks = r.blocks[1:]
	r.base++
	if len(r.blocks) == 0 {
		r.blocks = r.blocks[:0:0]
	}
}

// discard drops all buffered data and releases its memory; later pushes
// are the caller's to refuse.
func (r *reassembler) discard() {
	for _, b := range r.blocks {
		if b != nil {
			blockPool.Put(b)
		}
	}
	clear(r.blocks) // pooled blocks must not stay reachable from here
	r.blocks = r.blocks[:0]
	r.ranges = r.ranges[:0]
}

// bufferedBlocks reports how many blocks are allocated (for memory tests).
func (r *reassembler) bufferedBlocks() int {
	n := 0
	for _, b := range r.blocks {
		if b != nil {
			n++
		}
	}
	return n
}
