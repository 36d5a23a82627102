package wire

// MaxPacketNumber is the largest packet number QUIC allows (RFC 9000 §12.3).
const MaxPacketNumber = 1<<62 - 1

// NoPacketAcked is passed as largestAcked before any packet in the space was
// acknowledged (RFC 9000 A.2).
const NoPacketAcked int64 = -1

// PacketNumberLen returns the number of bytes (1-4) to encode pn so the peer
// can recover it, given the largest packet number it has acknowledged in the
// same space (RFC 9000 §17.1, A.2): the window must cover twice the number of
// unacknowledged packets.
func PacketNumberLen(pn uint64, largestAcked int64) int {
	var unacked uint64
	if largestAcked < 0 {
		unacked = pn + 1
	} else {
		unacked = pn - uint64(largestAcked)
	}
	switch {
	case unacked < 1<<7:
		return 1
	case unacked < 1<<15:
		return 2
	case unacked < 1<<23:
		return 3
	default:
		return 4
	}
}

// AppendPacketNumber appends the low n bytes (1-4) of pn, big-endian.
func AppendPacketNumber(b []byte, pn uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(pn>>(8*i)))
	}
	return b
}

// ReadPacketNumber reads an n-byte (1-4) truncated packet number.
func ReadPacketNumber(b []byte, n int) (uint64, error) {
	if n < 1 || n > 4 || len(b) < n {
		return 0, ErrTruncated
	}
	var v uint64
	for _, c := range b[:n] {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// DecodePacketNumber expands a truncated packet number of n bytes to the
// full value closest to largest+1, where largest is the largest packet
// number received so far in the space (NoPacketAcked if none) (RFC 9000 A.3).
func DecodePacketNumber(largest int64, truncated uint64, n int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << (8 * n)
	hwin := win / 2
	mask := win - 1
	candidate := (expected &^ mask) | (truncated & mask)
	switch {
	case candidate+hwin <= expected && candidate+win <= MaxPacketNumber:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}
