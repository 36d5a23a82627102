package streams

import (
	"errors"
	"testing"
)

// BenchmarkSendPath measures Write → NextStreamFrame → OnAcked on one
// stream with unlimited credit: the per-byte cost of the send buffer.
func BenchmarkSendPath(b *testing.B) {
	big := PeerParams{InitialMaxData: MaxVarint, InitialMaxStreamDataBidiRemote: MaxVarint,
		InitialMaxStreamsBidi: 1}
	m := NewManager(Client, Config{})
	m.SetPeerParams(big)
	id, _ := m.OpenStream(Bidi)
	chunk := make([]byte, 16<<10)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := m.Write(id, chunk); n != len(chunk) || err != nil {
			b.Fatal(n, err)
		}
		for {
			f, _, ok := m.NextStreamFrame(1200)
			if !ok {
				break
			}
			m.OnAcked(f)
		}
		if m.events != nil {
			m.events = m.events[:0]
		}
	}
}

// BenchmarkRecvPath measures STREAM frame in → Read on one stream, frames
// arriving in order, window updates polled as the core would.
func BenchmarkRecvPath(b *testing.B) {
	m := NewManager(Server, Config{})
	m.SetPeerParams(PeerParams{})
	id := NewStreamID(Client, Uni, 0)
	frame := make([]byte, 1150)
	out := make([]byte, 16<<10)
	var off uint64
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := m.HandleStream(id, off, frame, false); err != nil {
			b.Fatal(err)
		}
		off += uint64(len(frame))
		if i%8 == 7 {
			for {
				_, err := m.Read(id, out)
				if errors.Is(err, ErrWouldBlock) {
					break
				}
			}
			for {
				if _, ok := m.NextControl(simEpoch, 1200); !ok {
					break
				}
			}
			m.events = m.events[:0]
		}
	}
}

// BenchmarkRecvReordered is BenchmarkRecvPath with each pair of frames
// swapped, so half the data takes the out-of-order path.
func BenchmarkRecvReordered(b *testing.B) {
	m := NewManager(Server, Config{})
	m.SetPeerParams(PeerParams{})
	id := NewStreamID(Client, Uni, 0)
	frame := make([]byte, 1150)
	out := make([]byte, 16<<10)
	var off uint64
	const n = uint64(1150)
	b.SetBytes(2 * int64(n))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.HandleStream(id, off+n, frame, false)
		m.HandleStream(id, off, frame, false)
		off += 2 * n
		if i%4 == 3 {
			for {
				if _, err := m.Read(id, out); errors.Is(err, ErrWouldBlock) {
					break
				}
			}
			for {
				if _, ok := m.NextControl(simEpoch, 1200); !ok {
					break
				}
			}
			m.events = m.events[:0]
		}
	}
}
