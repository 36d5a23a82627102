package wire

import "strconv"

// FrameType is a frame's type codepoint. STREAM (0x08-0x0f) and DATAGRAM
// (0x30-0x31) frames are reported with their base type; their flag bits are
// decoded into Frame fields.
type FrameType uint64

// RFC 9000 §19 and RFC 9221 frame types.
const (
	FramePadding            FrameType = 0x00
	FramePing               FrameType = 0x01
	FrameAck                FrameType = 0x02
	FrameAckECN             FrameType = 0x03
	FrameResetStream        FrameType = 0x04
	FrameStopSending        FrameType = 0x05
	FrameCrypto             FrameType = 0x06
	FrameNewToken           FrameType = 0x07
	FrameStream             FrameType = 0x08 // 0x08-0x0f: bits OFF=0x04, LEN=0x02, FIN=0x01
	FrameMaxData            FrameType = 0x10
	FrameMaxStreamData      FrameType = 0x11
	FrameMaxStreamsBidi     FrameType = 0x12
	FrameMaxStreamsUni      FrameType = 0x13
	FrameDataBlocked        FrameType = 0x14
	FrameStreamDataBlocked  FrameType = 0x15
	FrameStreamsBlockedBidi FrameType = 0x16
	FrameStreamsBlockedUni  FrameType = 0x17
	FrameNewConnectionID    FrameType = 0x18
	FrameRetireConnectionID FrameType = 0x19
	FramePathChallenge      FrameType = 0x1a
	FramePathResponse       FrameType = 0x1b
	FrameConnectionClose    FrameType = 0x1c
	FrameApplicationClose   FrameType = 0x1d
	FrameHandshakeDone      FrameType = 0x1e
	FrameDatagram           FrameType = 0x30 // 0x31 carries a length
)

// Extension frame types, with the codepoints noq uses.
const (
	// draft-ietf-quic-ack-frequency
	FrameImmediateAck FrameType = 0x1f
	FrameAckFrequency FrameType = 0xaf

	// draft-ietf-quic-multipath (final IANA values)
	FramePathAck                FrameType = 0x3e
	FramePathAckECN             FrameType = 0x3f
	FramePathAbandon            FrameType = 0x3e75
	FramePathStatusBackup       FrameType = 0x3e76
	FramePathStatusAvailable    FrameType = 0x3e77
	FramePathNewConnectionID    FrameType = 0x3e78
	FramePathRetireConnectionID FrameType = 0x3e79
	FrameMaxPathID              FrameType = 0x3e7a
	FramePathsBlocked           FrameType = 0x3e7b
	FramePathCIDsBlocked        FrameType = 0x3e7c

	// n0 NAT traversal (n0-private codepoints)
	FrameAddAddressIPv4 FrameType = 0x3d7f90
	FrameAddAddressIPv6 FrameType = 0x3d7f91
	FrameReachOutIPv4   FrameType = 0x3d7f92
	FrameReachOutIPv6   FrameType = 0x3d7f93
	FrameRemoveAddress  FrameType = 0x3d7f94

	// draft-seemann-quic-address-discovery (QAD)
	FrameObservedAddressIPv4 FrameType = 0x9f81a6
	FrameObservedAddressIPv6 FrameType = 0x9f81a7
)

// STREAM frame type flag bits.
const (
	streamBitFin = 0x01
	streamBitLen = 0x02
	streamBitOff = 0x04
)

var frameTypeNames = map[FrameType]string{
	FramePadding:                "PADDING",
	FramePing:                   "PING",
	FrameAck:                    "ACK",
	FrameAckECN:                 "ACK_ECN",
	FrameResetStream:            "RESET_STREAM",
	FrameStopSending:            "STOP_SENDING",
	FrameCrypto:                 "CRYPTO",
	FrameNewToken:               "NEW_TOKEN",
	FrameStream:                 "STREAM",
	FrameMaxData:                "MAX_DATA",
	FrameMaxStreamData:          "MAX_STREAM_DATA",
	FrameMaxStreamsBidi:         "MAX_STREAMS_BIDI",
	FrameMaxStreamsUni:          "MAX_STREAMS_UNI",
	FrameDataBlocked:            "DATA_BLOCKED",
	FrameStreamDataBlocked:      "STREAM_DATA_BLOCKED",
	FrameStreamsBlockedBidi:     "STREAMS_BLOCKED_BIDI",
	FrameStreamsBlockedUni:      "STREAMS_BLOCKED_UNI",
	FrameNewConnectionID:        "NEW_CONNECTION_ID",
	FrameRetireConnectionID:     "RETIRE_CONNECTION_ID",
	FramePathChallenge:          "PATH_CHALLENGE",
	FramePathResponse:           "PATH_RESPONSE",
	FrameConnectionClose:        "CONNECTION_CLOSE",
	FrameApplicationClose:       "APPLICATION_CLOSE",
	FrameHandshakeDone:          "HANDSHAKE_DONE",
	FrameDatagram:               "DATAGRAM",
	FrameImmediateAck:           "IMMEDIATE_ACK",
	FrameAckFrequency:           "ACK_FREQUENCY",
	FramePathAck:                "PATH_ACK",
	FramePathAckECN:             "PATH_ACK_ECN",
	FramePathAbandon:            "PATH_ABANDON",
	FramePathStatusBackup:       "PATH_STATUS_BACKUP",
	FramePathStatusAvailable:    "PATH_STATUS_AVAILABLE",
	FramePathNewConnectionID:    "PATH_NEW_CONNECTION_ID",
	FramePathRetireConnectionID: "PATH_RETIRE_CONNECTION_ID",
	FrameMaxPathID:              "MAX_PATH_ID",
	FramePathsBlocked:           "PATHS_BLOCKED",
	FramePathCIDsBlocked:        "PATH_CIDS_BLOCKED",
	FrameAddAddressIPv4:         "ADD_ADDRESS_IPV4",
	FrameAddAddressIPv6:         "ADD_ADDRESS_IPV6",
	FrameReachOutIPv4:           "REACH_OUT_IPV4",
	FrameReachOutIPv6:           "REACH_OUT_IPV6",
	FrameRemoveAddress:          "REMOVE_ADDRESS",
	FrameObservedAddressIPv4:    "OBSERVED_ADDRESS_IPV4",
	FrameObservedAddressIPv6:    "OBSERVED_ADDRESS_IPV6",
}

func (t FrameType) String() string {
	if name, ok := frameTypeNames[t]; ok {
		return name
	}
	return "0x" + strconv.FormatUint(uint64(t), 16)
}

// IsAckEliciting reports whether a packet carrying this frame must be
// acknowledged (RFC 9000 §13.2: all but ACK, PADDING and CONNECTION_CLOSE;
// PATH_ACK counts as an ACK).
func (t FrameType) IsAckEliciting() bool {
	switch t {
	case FrameAck, FrameAckECN, FramePathAck, FramePathAckECN, FramePadding,
		FrameConnectionClose, FrameApplicationClose:
		return false
	}
	return true
}

// IsProbing reports whether the frame is a probing frame, one that does not
// make a packet count as non-probing for migration (RFC 9000 §9.1; noq also
// treats OBSERVED_ADDRESS this way).
func (t FrameType) IsProbing() bool {
	switch t {
	case FramePathChallenge, FramePathResponse, FrameNewConnectionID, FramePadding,
		FrameObservedAddressIPv4, FrameObservedAddressIPv6:
		return true
	}
	return false
}

// Packet-type sets for AllowedIn (RFC 9000 Table 3 "Pkts" column).
const (
	inInitial = 1 << iota
	in0RTT
	inHandshake
	in1RTT

	setIH01 = inInitial | in0RTT | inHandshake | in1RTT
	setIH_1 = inInitial | inHandshake | in1RTT
	set__01 = in0RTT | in1RTT
	set___1 = in1RTT
)

func (t FrameType) packetSet() int {
	switch t {
	case FramePadding, FramePing, FrameConnectionClose:
		return setIH01
	case FrameAck, FrameAckECN, FrameCrypto:
		return setIH_1
	case FrameNewToken, FramePathResponse, FrameHandshakeDone:
		return set___1
	case FrameResetStream, FrameStopSending, FrameStream, FrameMaxData, FrameMaxStreamData,
		FrameMaxStreamsBidi, FrameMaxStreamsUni, FrameDataBlocked, FrameStreamDataBlocked,
		FrameStreamsBlockedBidi, FrameStreamsBlockedUni, FrameNewConnectionID,
		FrameRetireConnectionID, FramePathChallenge, FrameApplicationClose, FrameDatagram,
		FrameImmediateAck, FrameAckFrequency:
		return set__01
	}
	// Multipath, QAD and n0 NAT traversal frames are 1-RTT only.
	return set___1
}

// AllowedIn reports whether the frame may appear in a packet of type pt
// (RFC 9000 §12.4 Table 3; extension frames are 1-RTT only, ACK_FREQUENCY and
// IMMEDIATE_ACK 0-RTT or 1-RTT). A frame in the wrong packet type is a
// PROTOCOL_VIOLATION.
func (t FrameType) AllowedIn(pt PacketType) bool {
	var bit int
	switch pt {
	case PacketInitial:
		bit = inInitial
	case Packet0RTT:
		bit = in0RTT
	case PacketHandshake:
		bit = inHandshake
	case Packet1RTT:
		bit = in1RTT
	default:
		return false
	}
	return t.packetSet()&bit != 0
}

// CheckAllowed returns a PROTOCOL_VIOLATION TransportError when the frame
// type may not appear in packet type pt.
func CheckAllowed(t FrameType, pt PacketType) error {
	if t.AllowedIn(pt) {
		return nil
	}
	return &TransportError{Code: ProtocolViolation, FrameType: t, Reason: "frame not allowed in " + pt.String() + " packet"}
}
