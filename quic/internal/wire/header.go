package wire

import (
	"encoding/binary"
	"errors"
)

// Version1 is QUIC version 1 (RFC 9000), the only version iroh dials.
const Version1 uint32 = 0x00000001

// MaxConnIDLen is the longest connection ID QUIC v1 allows.
const MaxConnIDLen = 20

// RetryTagLen is the size of a Retry packet's integrity tag (RFC 9001 §5.8).
const RetryTagLen = 16

// PacketType identifies a QUIC packet's header type.
type PacketType uint8

// Packet types. The zero value is not a valid packet type.
const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	Packet1RTT
	PacketVersionNegotiation
)

var packetTypeNames = [...]string{"unknown", "Initial", "0-RTT", "Handshake", "Retry", "1-RTT", "VersionNegotiation"}

func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return packetTypeNames[0]
}

// Long header type bits for QUIC v1 (RFC 9000 §17.2).
var longTypeBits = [...]PacketType{PacketInitial, Packet0RTT, PacketHandshake, PacketRetry}

func longTypeCode(t PacketType) (byte, bool) {
	for i, lt := range longTypeBits {
		if lt == t {
			return byte(i), true
		}
	}
	return 0, false
}

var (
	// ErrFixedBit reports a packet whose fixed bit (0x40) is clear; iroh
	// never greases it, so such datagrams are not QUIC (RFC 9000 §17.2).
	ErrFixedBit = errors.New("wire: fixed bit not set")
	// ErrConnIDLen reports a connection ID longer than the version allows.
	ErrConnIDLen = errors.New("wire: connection ID too long")
	// ErrUnsupportedVersion is returned with a partially filled Header
	// (Version, DCID, SCID) so a server can answer with Version Negotiation.
	ErrUnsupportedVersion = errors.New("wire: unsupported QUIC version")
	// ErrHeaderField reports a header field whose value cannot be encoded
	// or is inconsistent (length, packet-number size, version list).
	ErrHeaderField = errors.New("wire: invalid header field")
)

// Header is a parsed packet header. Its slices alias the parsed buffer.
//
// For protected packets (Initial, 0-RTT, Handshake, 1-RTT) parsing stops at
// the packet-number field, whose length is itself header-protected:
// PNOffset is where it starts and PacketLen is where the packet (and its AEAD
// tag) ends.
type Header struct {
	Type    PacketType
	Version uint32 // zero for 1-RTT and Version Negotiation
	DCID    []byte
	SCID    []byte // long headers only
	// Token is the Initial token or, for Retry, the retry token.
	Token []byte
	// VersionList holds the 4-byte supported versions of a Version
	// Negotiation packet.
	VersionList []byte
	// PNOffset is the offset of the packet-number field; zero for Retry and
	// Version Negotiation.
	PNOffset int
	// PacketLen is this packet's length within the datagram.
	PacketLen int
}

// IsLongHeader reports whether the first byte of a packet uses the long form.
func IsLongHeader(first byte) bool { return first&0x80 != 0 }

// ParseHeader parses the header of the first packet in b. shortDCIDLen is
// the length of this endpoint's connection IDs, needed because short headers
// do not carry it. Header protection must still be in place or already
// removed; the result is the same.
func ParseHeader(b []byte, shortDCIDLen int) (Header, error) {
	if len(b) == 0 {
		return Header{}, ErrTruncated
	}
	if !IsLongHeader(b[0]) {
		return parseShortHeader(b, shortDCIDLen)
	}
	return parseLongHeader(b)
}

func parseShortHeader(b []byte, dcidLen int) (Header, error) {
	if b[0]&0x40 == 0 {
		return Header{}, ErrFixedBit
	}
	if dcidLen < 0 || dcidLen > MaxConnIDLen {
		return Header{}, ErrConnIDLen
	}
	if len(b) < 1+dcidLen+1 {
		return Header{}, ErrTruncated
	}
	return Header{
		Type:      Packet1RTT,
		DCID:      b[1 : 1+dcidLen],
		PNOffset:  1 + dcidLen,
		PacketLen: len(b),
	}, nil
}

// readConnID reads a one-byte length and the connection ID after it.
func readConnID(b []byte, off, max int) ([]byte, int, error) {
	if off >= len(b) {
		return nil, 0, ErrTruncated
	}
	n := int(b[off])
	off++
	if n > max {
		return nil, 0, ErrConnIDLen
	}
	if len(b)-off < n {
		return nil, 0, ErrTruncated
	}
	return b[off : off+n], off + n, nil
}

func parseLongHeader(b []byte) (Header, error) {
	if len(b) < 7 {
		return Header{}, ErrTruncated
	}
	var h Header
	h.Version = binary.BigEndian.Uint32(b[1:5])
	// Connection IDs of unknown versions may be up to 255 bytes (RFC 8999).
	maxCID := MaxConnIDLen
	if h.Version != Version1 {
		maxCID = 255
	}
	var err error
	off := 5
	if h.DCID, off, err = readConnID(b, off, maxCID); err != nil {
		return Header{}, err
	}
	if h.SCID, off, err = readConnID(b, off, maxCID); err != nil {
		return Header{}, err
	}
	switch h.Version {
	case 0:
		return parseVersionNegotiation(b, h, off)
	case Version1:
	default:
		h.PacketLen = len(b)
		return h, ErrUnsupportedVersion
	}
	if b[0]&0x40 == 0 {
		return Header{}, ErrFixedBit
	}
	h.Type = longTypeBits[(b[0]>>4)&0x3]
	if h.Type == PacketRetry {
		if len(b)-off < RetryTagLen {
			return Header{}, ErrTruncated
		}
		h.Token = b[off : len(b)-RetryTagLen]
		h.PacketLen = len(b)
		return h, nil
	}
	if h.Type == PacketInitial {
		tokLen, n, err := ParseVarint(b[off:])
		if err != nil {
			return Header{}, err
		}
		off += n
		if tokLen > uint64(len(b)-off) {
			return Header{}, ErrTruncated
		}
		h.Token = b[off : off+int(tokLen)]
		off += int(tokLen)
	}
	length, n, err := ParseVarint(b[off:])
	if err != nil {
		return Header{}, err
	}
	off += n
	if length > uint64(len(b)-off) {
		return Header{}, ErrTruncated
	}
	if length == 0 {
		// Not even a packet number fits.
		return Header{}, ErrHeaderField
	}
	h.PNOffset = off
	h.PacketLen = off + int(length)
	return h, nil
}

func parseVersionNegotiation(b []byte, h Header, off int) (Header, error) {
	rest := b[off:]
	if len(rest) == 0 || len(rest)%4 != 0 {
		return Header{}, ErrHeaderField
	}
	h.Type = PacketVersionNegotiation
	h.VersionList = rest
	h.PacketLen = len(b)
	return h, nil
}

// Versions appends the versions listed in a Version Negotiation header.
func (h *Header) Versions(dst []uint32) []uint32 {
	for i := 0; i+4 <= len(h.VersionList); i += 4 {
		dst = append(dst, binary.BigEndian.Uint32(h.VersionList[i:]))
	}
	return dst
}

// SplitPacket separates the first packet of a (possibly coalesced) datagram
// from the rest. A short-header packet always extends to the end of the
// datagram (RFC 9000 §12.2). The returned header describes pkt.
func SplitPacket(datagram []byte, shortDCIDLen int) (pkt, rest []byte, h Header, err error) {
	h, err = ParseHeader(datagram, shortDCIDLen)
	if err != nil {
		return nil, nil, h, err
	}
	return datagram[:h.PacketLen], datagram[h.PacketLen:], h, nil
}

// LengthFieldLen is the fixed size AppendLongHeader uses for the Length
// field, so packers can fill it in after sizing the payload.
const LengthFieldLen = 2

// MaxLongPacketLength is the largest Length value AppendLongHeader accepts.
const MaxLongPacketLength = 1<<14 - 1

// AppendLongHeader appends an Initial, 0-RTT or Handshake header through the
// packet number, unprotected. h.Token is used for Initial packets. length is
// the Length field: packet number + payload + AEAD tag; it is written as a
// two-byte varint (as in RFC 9001 Appendix A). The packet number field starts
// at len(result)-pnLen.
func AppendLongHeader(b []byte, h *Header, pn uint64, pnLen, length int) ([]byte, error) {
	code, ok := longTypeCode(h.Type)
	if !ok || h.Type == PacketRetry || pnLen < 1 || pnLen > 4 || length < pnLen || length > MaxLongPacketLength {
		return b, ErrHeaderField
	}
	if len(h.DCID) > MaxConnIDLen || len(h.SCID) > MaxConnIDLen {
		return b, ErrConnIDLen
	}
	b = append(b, 0xc0|code<<4|byte(pnLen-1))
	b = binary.BigEndian.AppendUint32(b, h.Version)
	b = append(b, byte(len(h.DCID)))
	b = append(b, h.DCID...)
	b = append(b, byte(len(h.SCID)))
	b = append(b, h.SCID...)
	if h.Type == PacketInitial {
		b = AppendVarint(b, uint64(len(h.Token)))
		b = append(b, h.Token...)
	}
	b, _ = AppendVarintWithLen(b, uint64(length), LengthFieldLen)
	return AppendPacketNumber(b, pn, pnLen), nil
}

// AppendShortHeader appends a 1-RTT header through the packet number,
// unprotected.
func AppendShortHeader(b, dcid []byte, pn uint64, pnLen int, keyPhase, spin bool) ([]byte, error) {
	if pnLen < 1 || pnLen > 4 {
		return b, ErrHeaderField
	}
	if len(dcid) > MaxConnIDLen {
		return b, ErrConnIDLen
	}
	first := 0x40 | byte(pnLen-1)
	if spin {
		first |= 0x20
	}
	if keyPhase {
		first |= 0x04
	}
	b = append(b, first)
	b = append(b, dcid...)
	return AppendPacketNumber(b, pn, pnLen), nil
}

// AppendRetry appends a Retry packet without its integrity tag, which the
// protection package computes over these bytes.
func AppendRetry(b []byte, version uint32, dcid, scid, token []byte) ([]byte, error) {
	if len(dcid) > MaxConnIDLen || len(scid) > MaxConnIDLen {
		return b, ErrConnIDLen
	}
	b = append(b, 0xf0)
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	return append(b, token...), nil
}

// AppendVersionNegotiation appends a Version Negotiation packet (RFC 9000
// §17.2.1). dcid and scid echo the client's SCID and DCID. unused supplies the
// seven arbitrary low bits of the first byte; 0x40 is always set so the packet
// survives demultiplexers that require the fixed bit.
func AppendVersionNegotiation(b, dcid, scid []byte, versions []uint32, unused byte) ([]byte, error) {
	if len(dcid) > 255 || len(scid) > 255 || len(versions) == 0 {
		return b, ErrHeaderField
	}
	b = append(b, 0xc0|unused&0x3f)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	for _, v := range versions {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b, nil
}
