package relayproto

// Postcard (the serde format iroh uses for handshake bodies) encodes lengths
// as unsigned LEB128. A usize varint is at most 10 bytes on 64-bit targets,
// and its 10th byte may only carry the one remaining bit. Like postcard,
// non-minimal encodings are accepted.

const postcardMaxVarintLen = 10

// readPostcardVarint decodes a usize varint from the start of b.
func readPostcardVarint(b []byte) (v uint64, n int, err error) {
	for i := range postcardMaxVarintLen {
		if i >= len(b) {
			return 0, 0, ErrTruncated
		}
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if i == postcardMaxVarintLen-1 && c > 1 {
				return 0, 0, ErrBadVarint
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, ErrBadVarint
}

func appendPostcardVarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func postcardVarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// readPostcardBytes decodes a byte string (varint length + bytes).
func readPostcardBytes(b []byte) (s []byte, n int, err error) {
	l, n, err := readPostcardVarint(b)
	if err != nil {
		return nil, 0, err
	}
	if l > uint64(len(b)-n) {
		return nil, 0, ErrTruncated
	}
	end := n + int(l)
	return b[n:end], end, nil
}
