package endpointcore

import (
	"errors"
	"io"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// packetClass is what the endpoint makes of a datagram before it knows
// which connection, if any, owns it.
type packetClass uint8

const (
	classDrop       packetClass = iota // not QUIC, or nothing useful to do
	classShort                         // 1-RTT: route by our 8-byte CID
	classInitial                       // Initial: route, or start a server connection
	classLong                          // Handshake, 0-RTT, Retry: route only
	classVersionNeg                    // long header of a version we lack
)

const (
	minInitialSize = 1200 // RFC 9000 §14.1: smaller client Initials are dropped
	minClientDCID  = 8    // RFC 9000 §7.2: a client's first DCID is ≥ 8 bytes
	minResetSize   = 21   // RFC 9000 §10.3: 5 unpredictable bytes + 16-byte token
	maxResetSize   = 1 + core.LocalCIDLen + 24 + 16
)

// classify looks at the first packet header of a datagram.
func classify(b []byte) (packetClass, wire.Header) {
	h, err := wire.ParseHeader(b, core.LocalCIDLen)
	if errors.Is(err, wire.ErrUnsupportedVersion) {
		// Only datagrams big enough to be a client's first flight earn a
		// Version Negotiation packet (RFC 9000 §6.1), so we cannot be used
		// to amplify.
		if len(b) >= minInitialSize && h.Version != 0 {
			return classVersionNeg, h
		}
		return classDrop, h
	}
	if err != nil {
		return classDrop, h
	}
	switch h.Type {
	case wire.Packet1RTT:
		return classShort, h
	case wire.PacketInitial:
		return classInitial, h
	case wire.PacketHandshake, wire.Packet0RTT, wire.PacketRetry:
		return classLong, h
	}
	return classDrop, h
}

// acceptableInitial reports whether an unrouted Initial may start a
// server connection.
func acceptableInitial(datagramLen int, h *wire.Header) bool {
	return datagramLen >= minInitialSize && len(h.DCID) >= minClientDCID && len(h.DCID) <= wire.MaxConnIDLen
}

// appendStatelessReset builds a stateless reset (RFC 9000 §10.3) answering
// a datagram of triggerLen bytes: it looks like a short-header packet, is
// shorter than the trigger (so two endpoints cannot loop), and ends with
// the token. ok is false when the trigger is too small to answer.
func appendStatelessReset(dst []byte, triggerLen int, token core.ResetToken, rnd io.Reader) ([]byte, bool) {
	size := min(triggerLen-1, maxResetSize)
	if size < minResetSize {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, make([]byte, size-16)...)
	if _, err := io.ReadFull(rnd, dst[start:]); err != nil {
		return dst[:start], false
	}
	dst[start] = dst[start]&0x3f | 0x40 // short header, fixed bit
	return append(dst, token[:]...), true
}

// appendVersionNegotiation answers an unknown version, echoing the
// client's connection IDs swapped.
func appendVersionNegotiation(dst []byte, h *wire.Header, unused byte) ([]byte, bool) {
	out, err := wire.AppendVersionNegotiation(dst, h.SCID, h.DCID, []uint32{wire.Version1}, unused)
	return out, err == nil
}

// appendRetry builds a Retry (RFC 9000 §17.2.5) answering an Initial with
// header h: scid is the new CID the client is to use, token proves its
// address on return.
func appendRetry(dst []byte, h *wire.Header, scid, token []byte) ([]byte, bool) {
	pkt, err := wire.AppendRetry(dst, wire.Version1, h.SCID, scid, token)
	if err != nil {
		return dst, false
	}
	tag := protection.RetryIntegrityTag(h.DCID, pkt[len(dst):])
	return append(pkt, tag[:]...), true
}

// appendRefusal builds the server Initial that refuses a connection
// without keeping state (RFC 9000 §5.2.2): CONNECTION_CLOSE with
// CONNECTION_REFUSED under the Initial keys of the client's DCID in h,
// from scid, a CID of our own. It is far smaller than the client's
// 1200-byte Initial, so it cannot amplify.
func appendRefusal(dst []byte, h *wire.Header, scid []byte) ([]byte, bool) {
	f := wire.Frame{Type: wire.FrameConnectionClose, ErrorCode: uint64(wire.ConnectionRefused)}
	payload, err := f.Append(nil)
	if err != nil {
		return dst, false
	}
	// Header protection samples 16 bytes from 4 past the packet number's
	// start; a 1-byte packet number needs 3 payload bytes besides the tag.
	for len(payload) < 3 {
		payload = append(payload, 0) // PADDING
	}
	const pnLen = 1
	start := len(dst)
	out, err := wire.AppendLongHeader(dst, &wire.Header{Type: wire.PacketInitial, Version: wire.Version1, DCID: h.SCID, SCID: scid},
		0, pnLen, pnLen+len(payload)+protection.TagLen)
	if err != nil {
		return dst, false
	}
	pnOffset := len(out) - pnLen - start
	_, keys := protection.InitialKeys(h.DCID)
	out = keys.Packet.Seal(out, out[start:], payload, 0)
	if keys.Header.Apply(out[start:], pnOffset) != nil {
		return dst, false
	}
	return out, true
}
