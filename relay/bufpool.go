package relay

import (
	"sync"

	"github.com/alkdev/irohspoke/relay/relayproto"
)

// Frame buffers travel from the goroutine that encodes a frame to the
// writer that sends it; pooling them keeps forwarding allocation-free.
const pooledBufCap = 2048

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, pooledBufCap); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 4*pooledBufCap {
		return // let large one-off buffers go
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// encodePooled encodes f into a pooled buffer; the writer puts it back.
func encodePooled(f relayproto.Frame) (*[]byte, error) {
	b := getBuf()
	enc, err := f.Append(*b)
	if err != nil {
		putBuf(b)
		return nil, err
	}
	*b = enc
	return b, nil
}
