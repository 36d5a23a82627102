package wire

import (
	"net/netip"
)

// frameReader walks a frame body, remembering the first decoding failure so
// the field reads stay linear.
type frameReader struct {
	b   []byte
	off int
	bad bool
}

func (r *frameReader) varint() uint64 {
	if r.bad {
		return 0
	}
	v, n, err := ParseVarint(r.b[r.off:])
	if err != nil {
		r.bad = true
		return 0
	}
	r.off += n
	return v
}

func (r *frameReader) bytes(n uint64) []byte {
	if r.bad || n > uint64(len(r.b)-r.off) {
		r.bad = true
		return nil
	}
	s := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *frameReader) lenPrefixed() []byte { return r.bytes(r.varint()) }

func (r *frameReader) rest() []byte { return r.bytes(uint64(len(r.b) - r.off)) }

// Parse decodes the frame at the start of b and returns it with the number
// of bytes it used. It does not allocate; the frame's slices alias b. Errors
// are *TransportError values: FRAME_ENCODING_ERROR for unknown types and
// malformed bodies, PROTOCOL_VIOLATION for an over-long type encoding.
func Parse(b []byte) (Frame, int, error) {
	var f Frame
	n, err := f.Parse(b)
	return f, n, err
}

// Parse decodes into f (overwriting it) and returns the bytes consumed.
func (f *Frame) Parse(b []byte) (int, error) {
	*f = Frame{}
	if len(b) == 0 {
		return 0, frameErr(0, "empty frame")
	}
	if b[0] == 0 {
		n := 1
		for n < len(b) && b[n] == 0 {
			n++
		}
		f.Type = FramePadding
		f.PaddingLen = n
		return n, nil
	}
	raw, tn, err := ParseVarint(b)
	if err != nil {
		return 0, frameErr(0, "truncated frame type")
	}
	t := FrameType(raw)
	if !IsMinimalVarint(raw, tn) {
		// RFC 9000 §12.4 allows treating this as a PROTOCOL_VIOLATION.
		return 0, &TransportError{Code: ProtocolViolation, FrameType: t, Reason: "frame type not minimally encoded"}
	}
	r := frameReader{b: b, off: tn}
	switch {
	case t >= FrameStream && t <= FrameStream|0x7:
		f.Type = FrameStream
		f.Fin = t&streamBitFin != 0
		f.OmitLength = t&streamBitLen == 0
		f.StreamID = r.varint()
		if t&streamBitOff != 0 {
			f.Offset = r.varint()
		}
		if f.OmitLength {
			f.Data = r.rest()
		} else {
			f.Data = r.lenPrefixed()
		}
		if !r.bad && f.Offset+uint64(len(f.Data)) > MaxVarint {
			return 0, frameErr(t, "stream offset beyond 2^62-1")
		}
	case t == FrameDatagram || t == FrameDatagram|1:
		f.Type = FrameDatagram
		f.OmitLength = t == FrameDatagram
		if f.OmitLength {
			f.Data = r.rest()
		} else {
			f.Data = r.lenPrefixed()
		}
	default:
		if _, known := frameTypeNames[t]; !known {
			return 0, frameErr(t, "unknown frame type")
		}
		f.Type = t
		if err := f.parseBody(&r); err != nil {
			return 0, err
		}
	}
	if r.bad {
		return 0, frameErr(t, "truncated or malformed frame")
	}
	return r.off, nil
}

func (f *Frame) parseBody(r *frameReader) error {
	t := f.Type
	if f.hasPathID() {
		f.PathID = r.varint()
		if f.PathID > MaxPathID {
			return frameErr(t, "path ID above 2^32-1")
		}
	}
	switch t {
	case FramePing, FrameHandshakeDone, FrameImmediateAck, FrameMaxPathID, FramePathsBlocked:
	case FrameAck, FrameAckECN, FramePathAck, FramePathAckECN:
		if err := f.parseAck(r); err != nil {
			return err
		}
	case FrameResetStream:
		f.StreamID, f.ErrorCode, f.FinalSize = r.varint(), r.varint(), r.varint()
	case FrameStopSending:
		f.StreamID, f.ErrorCode = r.varint(), r.varint()
	case FrameCrypto:
		f.Offset = r.varint()
		f.Data = r.lenPrefixed()
		if !r.bad && f.Offset+uint64(len(f.Data)) > MaxVarint {
			return frameErr(t, "crypto offset beyond 2^62-1")
		}
	case FrameNewToken:
		f.Token = r.lenPrefixed()
		if !r.bad && len(f.Token) == 0 {
			return frameErr(t, "empty token")
		}
	case FrameMaxData, FrameDataBlocked:
		f.Limit = r.varint()
	case FrameMaxStreamsBidi, FrameMaxStreamsUni, FrameStreamsBlockedBidi, FrameStreamsBlockedUni:
		f.Limit = r.varint()
		if f.Limit > MaxStreamCount {
			return frameErr(t, "stream count above 2^60")
		}
	case FrameMaxStreamData, FrameStreamDataBlocked:
		f.StreamID, f.Limit = r.varint(), r.varint()
	case FrameNewConnectionID, FramePathNewConnectionID:
		f.Sequence, f.RetirePriorTo = r.varint(), r.varint()
		cidLen := r.bytes(1)
		if r.bad {
			break
		}
		if cidLen[0] < 1 || cidLen[0] > MaxConnIDLen {
			return frameErr(t, "connection ID length out of range")
		}
		f.ConnID = r.bytes(uint64(cidLen[0]))
		copy(f.ResetToken[:], r.bytes(ResetTokenLen))
		if f.RetirePriorTo > f.Sequence {
			return frameErr(t, "retire_prior_to above sequence")
		}
	case FrameRetireConnectionID, FramePathRetireConnectionID, FramePathStatusBackup,
		FramePathStatusAvailable, FramePathCIDsBlocked, FrameRemoveAddress:
		f.Sequence = r.varint()
	case FramePathChallenge, FramePathResponse:
		copy(f.PathData[:], r.bytes(8))
	case FrameConnectionClose:
		f.ErrorCode = r.varint()
		f.ClosingFrameType = FrameType(r.varint())
		f.Reason = r.lenPrefixed()
	case FrameApplicationClose:
		f.ErrorCode = r.varint()
		f.Reason = r.lenPrefixed()
	case FrameAckFrequency:
		f.Sequence, f.AckElicitingThreshold = r.varint(), r.varint()
		f.RequestMaxAckDelay, f.ReorderingThreshold = r.varint(), r.varint()
	case FramePathAbandon:
		f.ErrorCode = r.varint()
	case FrameAddAddressIPv4, FrameAddAddressIPv6, FrameReachOutIPv4, FrameReachOutIPv6,
		FrameObservedAddressIPv4, FrameObservedAddressIPv6:
		f.Sequence = r.varint()
		ip := r.bytes(uint64(addrLen(t)))
		port := r.bytes(2)
		if r.bad {
			break
		}
		var addr netip.Addr
		if len(ip) == 4 {
			addr = netip.AddrFrom4([4]byte(ip))
		} else {
			addr = netip.AddrFrom16([16]byte(ip))
		}
		f.Addr = netip.AddrPortFrom(addr, uint16(port[0])<<8|uint16(port[1]))
	}
	return nil
}

// parseAck validates the ranges once so AppendAckRanges cannot underflow,
// and keeps them in wire form to avoid allocating.
func (f *Frame) parseAck(r *frameReader) error {
	f.ackLargest = r.varint()
	f.AckDelay = r.varint()
	f.ackRangeCount = r.varint()
	f.ackFirstRange = r.varint()
	if r.bad {
		return nil
	}
	if f.ackFirstRange > f.ackLargest {
		return frameErr(f.Type, "first ACK range below zero")
	}
	// Each further range takes at least two bytes; reject impossible
	// counts before looping.
	if f.ackRangeCount > uint64(len(r.b)-r.off)/2 {
		r.bad = true
		return nil
	}
	start := r.off
	smallest := f.ackLargest - f.ackFirstRange
	for i := uint64(0); i < f.ackRangeCount; i++ {
		gap, length := r.varint(), r.varint()
		if r.bad {
			return nil
		}
		if smallest < gap+2 || smallest-gap-2 < length {
			return frameErr(f.Type, "ACK range below zero")
		}
		smallest = smallest - gap - 2 - length
	}
	f.ackGaps = r.b[start:r.off:r.off]
	if f.hasECN() {
		f.ECT0, f.ECT1, f.ECNCE = r.varint(), r.varint(), r.varint()
	}
	return nil
}
