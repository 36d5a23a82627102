package core

import (
	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// maxCryptoBuffer bounds out-of-order CRYPTO data per encryption level. TLS
// handshake flights are a few KiB; anything beyond this is an attack or a bug
// (RFC 9000 §7.5 suggests at least 4096 bytes, CRYPTO_BUFFER_EXCEEDED past it).
const maxCryptoBuffer = 64 << 10

// maxCryptoHoles bounds the separate out-of-order ranges one level may hold.
// An honest peer's flight is a few dozen packets, so even heavy reordering
// stays far below it; tiny scattered pieces are refused before they cost
// memory or time.
const maxCryptoHoles = 64

// cryptoRecv reassembles the CRYPTO stream of one encryption level.
type cryptoRecv struct {
	buf streams.Bounded
}

// push stores a CRYPTO frame and returns the bytes now contiguous from the
// delivered offset (possibly none).
func (r *cryptoRecv) push(off uint64, data []byte) ([]byte, error) {
	if r.buf.Window == 0 {
		r.buf.Window, r.buf.MaxHoles = maxCryptoBuffer, maxCryptoHoles
	}
	return r.buf.Push(off, data)
}

// cryptoSend holds our CRYPTO data for one level until it is acknowledged.
// lost is a set, not a queue: a range can be reported lost more than once
// (a PTO queues every outstanding flight again, and the same packets may be
// declared lost later), and it must still go out only once.
type cryptoSend struct {
	data  []byte  // everything TLS wrote at this level, from offset 0
	sent  uint64  // first byte never sent
	lost  spanSet // ranges to send again, none of them acknowledged
	acked spanSet
}

type span struct{ off, end uint64 }

func (s *cryptoSend) write(b []byte) { s.data = append(s.data, b...) }

// hasData reports whether a CRYPTO frame is waiting to go out.
func (s *cryptoSend) hasData() bool { return len(s.lost) > 0 || s.sent < uint64(len(s.data)) }

// next returns up to max bytes to send and their offset, preferring lost data.
func (s *cryptoSend) next(max int) (off uint64, b []byte) {
	if max <= 0 {
		return 0, nil
	}
	if len(s.lost) > 0 {
		sp := s.lost[0]
		sp.end = min(sp.end, sp.off+uint64(max))
		s.lost.remove(sp)
		return sp.off, s.data[sp.off:sp.end]
	}
	end := min(uint64(len(s.data)), s.sent+uint64(max))
	off, b = s.sent, s.data[s.sent:end]
	s.sent = end
	return off, b
}

func (s *cryptoSend) onAcked(off, n uint64) {
	sp := span{off, off + n}
	s.acked.add(sp)
	s.lost.remove(sp)
}

func (s *cryptoSend) onLost(off, n uint64) {
	if n == 0 {
		return
	}
	s.lost.add(span{off, off + n})
	for _, a := range s.acked {
		s.lost.remove(a)
	}
}

// spanSet is a small sorted set of disjoint, non-adjacent byte ranges.
type spanSet []span

func (ss *spanSet) add(n span) {
	out := (*ss)[:0:0]
	for _, s := range *ss {
		switch {
		case s.end < n.off || s.off > n.end:
			out = append(out, s)
		default:
			n.off, n.end = min(n.off, s.off), max(n.end, s.end)
		}
	}
	i := 0
	for i < len(out) && out[i].off < n.off {
		i++
	}
	out = append(out, span{})
	copy(out[i+1:], out[i:])
	out[i] = n
	*ss = out
}

// remove takes r out of the set, splitting a range that holds it.
func (ss *spanSet) remove(r span) {
	var out spanSet
	for i, s := range *ss {
		if s.end <= r.off || s.off >= r.end {
			if out != nil {
				out = append(out, s)
			}
			continue
		}
		if out == nil {
			out = append(make(spanSet, 0, len(*ss)+1), (*ss)[:i]...)
		}
		if s.off < r.off {
			out = append(out, span{s.off, r.off})
		}
		if s.end > r.end {
			out = append(out, span{r.end, s.end})
		}
	}
	if out != nil {
		*ss = out
	}
}

// peekOffset is the offset next would return data from.
func (s *cryptoSend) peekOffset() uint64 {
	if len(s.lost) > 0 {
		return s.lost[0].off
	}
	return s.sent
}

// requeueOutstanding resends the CRYPTO data of every packet of space s
// still outstanding in rec as the PTO probe, which recovers a lost flight in one round trip.
func (cs *cryptoSend) requeueOutstanding(rec *recovery.Path[*sentRecord], s recovery.Space) {
	rec.ForEachOutstanding(s, func(sp *recovery.SentPacket[*sentRecord]) bool {
		for _, cr := range sp.Payload.crypto {
			cs.onLost(cr.off, cr.n)
		}
		return true
	})
}
