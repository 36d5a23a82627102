package wire

import (
	"errors"
	"net/netip"
)

// ResetTokenLen is the size of a stateless reset token.
const ResetTokenLen = 16

// MaxStreamCount bounds MAX_STREAMS and STREAMS_BLOCKED values (RFC 9000 §19.11).
const MaxStreamCount = 1 << 60

// MaxPathID is the largest multipath path ID; noq holds path IDs in a u32.
const MaxPathID = 1<<32 - 1

// ErrInvalidFrame reports a Frame whose fields cannot be encoded, for example
// a connection ID of 21 bytes or a value above MaxVarint.
var ErrInvalidFrame = errors.New("wire: frame cannot be encoded")

// AckRange is an inclusive range of acknowledged packet numbers.
type AckRange struct {
	Smallest, Largest uint64
}

// Frame is one decoded or to-be-encoded frame. It is a value type: which
// fields are meaningful depends on Type (see each field). Byte slices of a
// parsed frame alias the packet payload, so they are only valid as long as
// that buffer is.
type Frame struct {
	Type FrameType

	// StreamID: STREAM, RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA,
	// STREAM_DATA_BLOCKED.
	StreamID uint64
	// Offset: STREAM and CRYPTO data offset.
	Offset uint64
	// ErrorCode: RESET_STREAM, STOP_SENDING, CONNECTION_CLOSE (both types),
	// PATH_ABANDON.
	ErrorCode uint64
	// FinalSize: RESET_STREAM.
	FinalSize uint64
	// Limit: MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS_*, DATA_BLOCKED,
	// STREAM_DATA_BLOCKED, STREAMS_BLOCKED_*.
	Limit uint64
	// PathID: PATH_ACK(_ECN), PATH_ABANDON, PATH_STATUS_*,
	// PATH_NEW_CONNECTION_ID, PATH_RETIRE_CONNECTION_ID, PATH_CIDS_BLOCKED;
	// the maximum path ID for MAX_PATH_ID and PATHS_BLOCKED.
	PathID uint64
	// Sequence: (PATH_)NEW_CONNECTION_ID, (PATH_)RETIRE_CONNECTION_ID,
	// PATH_STATUS_*, ACK_FREQUENCY, ADD_ADDRESS, REMOVE_ADDRESS,
	// OBSERVED_ADDRESS; the round for REACH_OUT; the next sequence number
	// for PATH_CIDS_BLOCKED.
	Sequence uint64
	// RetirePriorTo, ConnID, ResetToken: (PATH_)NEW_CONNECTION_ID.
	RetirePriorTo uint64
	ConnID        []byte
	ResetToken    [ResetTokenLen]byte
	// PathData: PATH_CHALLENGE, PATH_RESPONSE.
	PathData [8]byte
	// Data: STREAM, CRYPTO and DATAGRAM payload.
	Data []byte
	// Fin: STREAM.
	Fin bool
	// OmitLength: STREAM and DATAGRAM without a length field; the data then
	// runs to the end of the packet, so such a frame must be last.
	OmitLength bool
	// Token: NEW_TOKEN.
	Token []byte
	// Reason and ClosingFrameType: CONNECTION_CLOSE; ClosingFrameType only
	// for the transport variant (0x1c).
	Reason           []byte
	ClosingFrameType FrameType
	// ACK, ACK_ECN, PATH_ACK, PATH_ACK_ECN. To encode, fill AckRanges
	// (descending, disjoint, separated by at least one missing packet).
	// Parsed frames leave AckRanges nil; use LargestAcked and
	// AppendAckRanges. ECN counts are for the _ECN variants.
	AckDelay          uint64
	AckRanges         []AckRange
	ECT0, ECT1, ECNCE uint64
	// ACK_FREQUENCY.
	AckElicitingThreshold uint64
	RequestMaxAckDelay    uint64 // microseconds
	ReorderingThreshold   uint64
	// Addr: ADD_ADDRESS, REACH_OUT, OBSERVED_ADDRESS.
	Addr netip.AddrPort
	// PaddingLen: PADDING; the parser folds a run of padding bytes into one
	// frame.
	PaddingLen int

	// Wire form of a parsed ACK's ranges, kept so parsing never allocates.
	ackLargest    uint64
	ackFirstRange uint64
	ackRangeCount uint64
	ackGaps       []byte
}

// IsAck reports whether f is an ACK or PATH_ACK frame of either variant.
func (f *Frame) IsAck() bool {
	switch f.Type {
	case FrameAck, FrameAckECN, FramePathAck, FramePathAckECN:
		return true
	}
	return false
}

func (f *Frame) hasECN() bool { return f.Type == FrameAckECN || f.Type == FramePathAckECN }

func (f *Frame) hasPathID() bool {
	switch f.Type {
	case FramePathAck, FramePathAckECN, FramePathAbandon, FramePathStatusBackup,
		FramePathStatusAvailable, FramePathNewConnectionID, FramePathRetireConnectionID,
		FrameMaxPathID, FramePathsBlocked, FramePathCIDsBlocked:
		return true
	}
	return false
}

// LargestAcked returns the largest packet number an ACK frame acknowledges.
func (f *Frame) LargestAcked() uint64 {
	if f.AckRanges != nil {
		if len(f.AckRanges) == 0 {
			return 0
		}
		return f.AckRanges[0].Largest
	}
	return f.ackLargest
}

// AckRangeCount returns how many ranges an ACK frame holds.
func (f *Frame) AckRangeCount() int {
	if f.AckRanges != nil {
		return len(f.AckRanges)
	}
	return int(f.ackRangeCount) + 1
}

// AppendAckRanges appends the ACK frame's ranges, largest first. Reusing dst
// keeps this allocation-free.
func (f *Frame) AppendAckRanges(dst []AckRange) []AckRange {
	if f.AckRanges != nil {
		return append(dst, f.AckRanges...)
	}
	largest := f.ackLargest
	smallest := largest - f.ackFirstRange
	dst = append(dst, AckRange{Smallest: smallest, Largest: largest})
	b := f.ackGaps
	for i := uint64(0); i < f.ackRangeCount; i++ {
		// Validated by the parser, so errors cannot happen here.
		gap, n, _ := ParseVarint(b)
		b = b[n:]
		length, n, _ := ParseVarint(b)
		b = b[n:]
		largest = smallest - gap - 2
		smallest = largest - length
		dst = append(dst, AckRange{Smallest: smallest, Largest: largest})
	}
	return dst
}

// ackBodyLen is the size of an ACK's largest..ranges section.
func (f *Frame) ackBodyLen() (int, bool) {
	if f.AckRanges == nil {
		return VarintLen(f.ackLargest) + VarintLen(f.AckDelay) + VarintLen(f.ackRangeCount) +
			VarintLen(f.ackFirstRange) + len(f.ackGaps), true
	}
	r := f.AckRanges
	if len(r) == 0 || r[0].Smallest > r[0].Largest || r[0].Largest > MaxVarint {
		return 0, false
	}
	n := VarintLen(r[0].Largest) + VarintLen(f.AckDelay) + VarintLen(uint64(len(r)-1)) +
		VarintLen(r[0].Largest-r[0].Smallest)
	for i := 1; i < len(r); i++ {
		if r[i].Smallest > r[i].Largest || r[i].Largest+2 > r[i-1].Smallest {
			return 0, false
		}
		n += VarintLen(r[i-1].Smallest-r[i].Largest-2) + VarintLen(r[i].Largest-r[i].Smallest)
	}
	return n, true
}

func (f *Frame) appendAckBody(b []byte) []byte {
	if f.AckRanges == nil {
		b = AppendVarint(b, f.ackLargest)
		b = AppendVarint(b, f.AckDelay)
		b = AppendVarint(b, f.ackRangeCount)
		b = AppendVarint(b, f.ackFirstRange)
		return append(b, f.ackGaps...)
	}
	r := f.AckRanges
	b = AppendVarint(b, r[0].Largest)
	b = AppendVarint(b, f.AckDelay)
	b = AppendVarint(b, uint64(len(r)-1))
	b = AppendVarint(b, r[0].Largest-r[0].Smallest)
	for i := 1; i < len(r); i++ {
		b = AppendVarint(b, r[i-1].Smallest-r[i].Largest-2)
		b = AppendVarint(b, r[i].Largest-r[i].Smallest)
	}
	return b
}

func addrLen(t FrameType) int {
	switch t {
	case FrameAddAddressIPv4, FrameReachOutIPv4, FrameObservedAddressIPv4:
		return 4
	}
	return 16
}

func (f *Frame) addrValid() bool {
	a := f.Addr.Addr()
	if addrLen(f.Type) == 4 {
		return a.Is4()
	}
	return a.Is6()
}

// StreamType returns the STREAM frame codepoint (0x08-0x0f) f encodes to.
func (f *Frame) StreamType() FrameType {
	t := FrameStream
	if f.Offset != 0 {
		t |= streamBitOff
	}
	if !f.OmitLength {
		t |= streamBitLen
	}
	if f.Fin {
		t |= streamBitFin
	}
	return t
}

// wireType is the codepoint written for f.
func (f *Frame) wireType() FrameType {
	switch f.Type {
	case FrameStream:
		return f.StreamType()
	case FrameDatagram:
		if !f.OmitLength {
			return FrameDatagram | 1
		}
	}
	return f.Type
}

func lenPrefixed(n int) int { return VarintLen(uint64(n)) + n }

// Len returns the exact number of bytes Append writes, or -1 if the frame
// cannot be encoded.
func (f *Frame) Len() int {
	if err := f.validate(); err != nil {
		return -1
	}
	n := VarintLen(uint64(f.wireType()))
	if f.hasPathID() {
		n += VarintLen(f.PathID)
	}
	switch f.Type {
	case FramePadding:
		return f.PaddingLen
	case FramePing, FrameHandshakeDone, FrameImmediateAck:
	case FrameAck, FrameAckECN, FramePathAck, FramePathAckECN:
		body, _ := f.ackBodyLen()
		n += body
		if f.hasECN() {
			n += VarintLen(f.ECT0) + VarintLen(f.ECT1) + VarintLen(f.ECNCE)
		}
	case FrameResetStream:
		n += VarintLen(f.StreamID) + VarintLen(f.ErrorCode) + VarintLen(f.FinalSize)
	case FrameStopSending:
		n += VarintLen(f.StreamID) + VarintLen(f.ErrorCode)
	case FrameCrypto:
		n += VarintLen(f.Offset) + lenPrefixed(len(f.Data))
	case FrameNewToken:
		n += lenPrefixed(len(f.Token))
	case FrameStream:
		n += VarintLen(f.StreamID) + len(f.Data)
		if f.Offset != 0 {
			n += VarintLen(f.Offset)
		}
		if !f.OmitLength {
			n += VarintLen(uint64(len(f.Data)))
		}
	case FrameMaxData, FrameMaxStreamsBidi, FrameMaxStreamsUni, FrameDataBlocked,
		FrameStreamsBlockedBidi, FrameStreamsBlockedUni:
		n += VarintLen(f.Limit)
	case FrameMaxStreamData, FrameStreamDataBlocked:
		n += VarintLen(f.StreamID) + VarintLen(f.Limit)
	case FrameNewConnectionID, FramePathNewConnectionID:
		n += VarintLen(f.Sequence) + VarintLen(f.RetirePriorTo) + 1 + len(f.ConnID) + ResetTokenLen
	case FrameRetireConnectionID, FramePathRetireConnectionID, FramePathStatusBackup,
		FramePathStatusAvailable, FramePathCIDsBlocked, FrameRemoveAddress:
		n += VarintLen(f.Sequence)
	case FramePathChallenge, FramePathResponse:
		n += 8
	case FrameConnectionClose:
		n += VarintLen(f.ErrorCode) + VarintLen(uint64(f.ClosingFrameType)) + lenPrefixed(len(f.Reason))
	case FrameApplicationClose:
		n += VarintLen(f.ErrorCode) + lenPrefixed(len(f.Reason))
	case FrameDatagram:
		n += len(f.Data)
		if !f.OmitLength {
			n += VarintLen(uint64(len(f.Data)))
		}
	case FrameAckFrequency:
		n += VarintLen(f.Sequence) + VarintLen(f.AckElicitingThreshold) +
			VarintLen(f.RequestMaxAckDelay) + VarintLen(f.ReorderingThreshold)
	case FramePathAbandon:
		n += VarintLen(f.ErrorCode)
	case FrameMaxPathID, FramePathsBlocked:
	case FrameAddAddressIPv4, FrameAddAddressIPv6, FrameReachOutIPv4, FrameReachOutIPv6,
		FrameObservedAddressIPv4, FrameObservedAddressIPv6:
		n += VarintLen(f.Sequence) + addrLen(f.Type) + 2
	}
	return n
}

// validate checks what Append cannot express on the wire.
func (f *Frame) validate() error {
	if _, ok := frameTypeNames[f.Type]; !ok {
		return ErrInvalidFrame
	}
	for _, v := range [...]uint64{f.StreamID, f.Offset, f.ErrorCode, f.FinalSize, f.Limit,
		f.PathID, f.Sequence, f.RetirePriorTo, f.AckDelay, f.ECT0, f.ECT1, f.ECNCE,
		f.AckElicitingThreshold, f.RequestMaxAckDelay, f.ReorderingThreshold, uint64(f.ClosingFrameType)} {
		if v > MaxVarint {
			return ErrInvalidFrame
		}
	}
	if f.hasPathID() && f.PathID > MaxPathID {
		return ErrInvalidFrame
	}
	switch f.Type {
	case FramePadding:
		if f.PaddingLen < 1 {
			return ErrInvalidFrame
		}
	case FrameAck, FrameAckECN, FramePathAck, FramePathAckECN:
		if _, ok := f.ackBodyLen(); !ok {
			return ErrInvalidFrame
		}
	case FrameNewConnectionID, FramePathNewConnectionID:
		if len(f.ConnID) < 1 || len(f.ConnID) > MaxConnIDLen || f.RetirePriorTo > f.Sequence {
			return ErrInvalidFrame
		}
	case FrameNewToken:
		if len(f.Token) == 0 {
			return ErrInvalidFrame
		}
	case FrameStream, FrameCrypto:
		if f.Offset+uint64(len(f.Data)) > MaxVarint {
			return ErrInvalidFrame
		}
	case FrameAddAddressIPv4, FrameAddAddressIPv6, FrameReachOutIPv4, FrameReachOutIPv6,
		FrameObservedAddressIPv4, FrameObservedAddressIPv6:
		if !f.addrValid() {
			return ErrInvalidFrame
		}
	}
	return nil
}

// Append appends the encoded frame to b.
func (f *Frame) Append(b []byte) ([]byte, error) {
	if err := f.validate(); err != nil {
		return b, err
	}
	if f.Type == FramePadding {
		for range f.PaddingLen {
			b = append(b, 0)
		}
		return b, nil
	}
	b = AppendVarint(b, uint64(f.wireType()))
	if f.hasPathID() {
		b = AppendVarint(b, f.PathID)
	}
	switch f.Type {
	case FrameAck, FrameAckECN, FramePathAck, FramePathAckECN:
		b = f.appendAckBody(b)
		if f.hasECN() {
			b = AppendVarint(b, f.ECT0)
			b = AppendVarint(b, f.ECT1)
			b = AppendVarint(b, f.ECNCE)
		}
	case FrameResetStream:
		b = AppendVarint(b, f.StreamID)
		b = AppendVarint(b, f.ErrorCode)
		b = AppendVarint(b, f.FinalSize)
	case FrameStopSending:
		b = AppendVarint(b, f.StreamID)
		b = AppendVarint(b, f.ErrorCode)
	case FrameCrypto:
		b = AppendVarint(b, f.Offset)
		b = AppendVarint(b, uint64(len(f.Data)))
		b = append(b, f.Data...)
	case FrameNewToken:
		b = AppendVarint(b, uint64(len(f.Token)))
		b = append(b, f.Token...)
	case FrameStream:
		b = AppendVarint(b, f.StreamID)
		if f.Offset != 0 {
			b = AppendVarint(b, f.Offset)
		}
		if !f.OmitLength {
			b = AppendVarint(b, uint64(len(f.Data)))
		}
		b = append(b, f.Data...)
	case FrameMaxData, FrameMaxStreamsBidi, FrameMaxStreamsUni, FrameDataBlocked,
		FrameStreamsBlockedBidi, FrameStreamsBlockedUni:
		b = AppendVarint(b, f.Limit)
	case FrameMaxStreamData, FrameStreamDataBlocked:
		b = AppendVarint(b, f.StreamID)
		b = AppendVarint(b, f.Limit)
	case FrameNewConnectionID, FramePathNewConnectionID:
		b = AppendVarint(b, f.Sequence)
		b = AppendVarint(b, f.RetirePriorTo)
		b = append(b, byte(len(f.ConnID)))
		b = append(b, f.ConnID...)
		b = append(b, f.ResetToken[:]...)
	case FrameRetireConnectionID, FramePathRetireConnectionID, FramePathStatusBackup,
		FramePathStatusAvailable, FramePathCIDsBlocked, FrameRemoveAddress:
		b = AppendVarint(b, f.Sequence)
	case FramePathChallenge, FramePathResponse:
		b = append(b, f.PathData[:]...)
	case FrameConnectionClose:
		b = AppendVarint(b, f.ErrorCode)
		b = AppendVarint(b, uint64(f.ClosingFrameType))
		b = AppendVarint(b, uint64(len(f.Reason)))
		b = append(b, f.Reason...)
	case FrameApplicationClose:
		b = AppendVarint(b, f.ErrorCode)
		b = AppendVarint(b, uint64(len(f.Reason)))
		b = append(b, f.Reason...)
	case FrameDatagram:
		if !f.OmitLength {
			b = AppendVarint(b, uint64(len(f.Data)))
		}
		b = append(b, f.Data...)
	case FrameAckFrequency:
		b = AppendVarint(b, f.Sequence)
		b = AppendVarint(b, f.AckElicitingThreshold)
		b = AppendVarint(b, f.RequestMaxAckDelay)
		b = AppendVarint(b, f.ReorderingThreshold)
	case FramePathAbandon:
		b = AppendVarint(b, f.ErrorCode)
	case FrameAddAddressIPv4, FrameAddAddressIPv6, FrameReachOutIPv4, FrameReachOutIPv6,
		FrameObservedAddressIPv4, FrameObservedAddressIPv6:
		b = AppendVarint(b, f.Sequence)
		if addrLen(f.Type) == 4 {
			a4 := f.Addr.Addr().As4()
			b = append(b, a4[:]...)
		} else {
			a16 := f.Addr.Addr().As16()
			b = append(b, a16[:]...)
		}
		b = append(b, byte(f.Addr.Port()>>8), byte(f.Addr.Port()))
	}
	return b, nil
}

// MaxStreamDataLen returns how many data bytes a STREAM frame for streamID
// at offset can carry when it must fit in space bytes, or -1 if not even an
// empty frame fits. With withLength false the frame omits its length and
// must end the packet.
func MaxStreamDataLen(streamID, offset uint64, withLength bool, space int) int {
	hdr := 1 + VarintLen(streamID)
	if offset != 0 {
		hdr += VarintLen(offset)
	}
	return fitData(hdr, withLength, space)
}

// MaxCryptoDataLen is MaxStreamDataLen for CRYPTO frames.
func MaxCryptoDataLen(offset uint64, space int) int {
	return fitData(1+VarintLen(offset), true, space)
}

func fitData(hdr int, withLength bool, space int) int {
	avail := space - hdr
	if avail < 0 {
		return -1
	}
	if !withLength {
		return avail
	}
	// The length field widens with the data; take the best of each width.
	best := -1
	for _, lenSize := range [...]int{1, 2, 4, 8} {
		n := min(avail-lenSize, 1<<(8*lenSize-2)-1)
		if n > best {
			best = n
		}
	}
	return best
}
