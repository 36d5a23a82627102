package core

import "github.com/alkdev/irohspoke/quic/internal/streams"

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
type cryptoSend struct {
	data  []byte // everything TLS wrote at this level, from offset 0
	sent  uint64 // first byte never sent
	lost  []span // ranges to send again, in order
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
	for len(s.lost) > 0 {
		sp := s.lost[0]
		sp = s.acked.trim(sp)
		if sp.off >= sp.end {
			s.lost = s.lost[1:]
			continue
		}
		end := sp.end
		if end-sp.off > uint64(max) {
			end = sp.off + uint64(max)
		}
		if end == sp.end {
			s.lost = s.lost[1:]
		} else {
			s.lost[0].off = end
		}
		return sp.off, s.data[sp.off:end]
	}
	end := uint64(len(s.data))
	if end-s.sent > uint64(max) {
		end = s.sent + uint64(max)
	}
	off, b = s.sent, s.data[s.sent:end]
	s.sent = end
	return off, b
}

func (s *cryptoSend) onAcked(off, n uint64) { s.acked.add(span{off, off + n}) }

func (s *cryptoSend) onLost(off, n uint64) {
	sp := s.acked.trim(span{off, off + n})
	if sp.off < sp.end {
		s.lost = append(s.lost, sp)
	}
}

// spanSet is a small sorted set of disjoint byte ranges.
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

// trim drops the acknowledged prefix of sp (a lost range entirely acked
// becomes empty); acked holes in the middle are resent, which is harmless.
func (ss spanSet) trim(sp span) span {
	for _, s := range ss {
		if s.off <= sp.off && s.end > sp.off {
			sp.off = s.end
		}
		if s.off < sp.end && s.end >= sp.end && s.off <= sp.off {
			sp.end = sp.off
		}
	}
	if sp.off > sp.end {
		sp.off = sp.end
	}
	return sp
}

// peekOffset is the offset next would return data from.
func (s *cryptoSend) peekOffset() uint64 {
	for len(s.lost) > 0 {
		sp := s.acked.trim(s.lost[0])
		if sp.off < sp.end {
			return sp.off
		}
		s.lost = s.lost[1:]
	}
	return s.sent
}
