package relayproto

import (
	"iter"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/alkdev/irohspoke/internal/postcard"
)

// Frame is one handshake or relay frame. Implementations are the pointer
// types of this package (*Ping, *ClientToRelayDatagram, ...); use a type
// switch on those.
type Frame interface {
	// Type is the frame's wire type.
	Type() FrameType
	// EncodedLen is the exact size Append would add.
	EncodedLen() int
	// Append appends the encoded frame (type included) to dst. It refuses
	// frames a Rust peer could not decode; on error dst is returned unchanged.
	Append(dst []byte) ([]byte, error)

	isFrame()
}

// AppendFrame appends the encoding of f to dst.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	return f.Append(dst)
}

// AppendFrameFor appends f after checking that a peer speaking version v
// accepts it in direction dir after the handshake (see Allowed). Use it on
// every post-handshake send so that, e.g., a v2 client never gets Health.
func AppendFrameFor(dst []byte, f Frame, v Version, dir Direction) ([]byte, error) {
	if v != V1 && v != V2 {
		return dst, ErrUnknownVersion
	}
	if !Allowed(f.Type(), v, dir) {
		if Allowed(f.Type(), otherVersion(v), dir) {
			return dst, ErrFrameNotAllowedInVersion
		}
		return dst, ErrUnexpectedFrameType
	}
	return f.Append(dst)
}

func otherVersion(v Version) Version {
	if v == V1 {
		return V2
	}
	return V1
}

// ECN is the two-bit IP ECN codepoint carried with relayed datagrams. iroh
// decodes the byte masked to its low two bits, ignores it on receive, and the
// relay copies it through unchanged.
type ECN uint8

const (
	NotECT ECN = 0b00
	ECT1   ECN = 0b01
	ECT0   ECN = 0b10
	CE     ECN = 0b11
)

func (e ECN) String() string {
	switch e {
	case NotECT:
		return "Not-ECT"
	case ECT1:
		return "ECT(1)"
	case ECT0:
		return "ECT(0)"
	case CE:
		return "CE"
	}
	return "ECN(invalid)"
}

// ClientToRelayDatagram (type 4) asks the relay to forward one datagram to Dst.
type ClientToRelayDatagram struct {
	Dst     [EndpointIDLen]byte
	ECN     ECN
	Payload []byte
}

// ClientToRelayDatagramBatch (type 5) asks the relay to forward a GSO-style
// batch to Dst: Payload is packets of SegmentSize bytes, the last possibly
// shorter.
type ClientToRelayDatagramBatch struct {
	Dst         [EndpointIDLen]byte
	ECN         ECN
	SegmentSize uint16
	Payload     []byte
}

// RelayToClientDatagram (type 6) delivers one datagram sent by Src.
type RelayToClientDatagram struct {
	Src     [EndpointIDLen]byte
	ECN     ECN
	Payload []byte
}

// RelayToClientDatagramBatch (type 7) delivers a batch sent by Src, exactly
// as Src sent it (the relay never re-segments).
type RelayToClientDatagramBatch struct {
	Src         [EndpointIDLen]byte
	ECN         ECN
	SegmentSize uint16
	Payload     []byte
}

// EndpointGone (type 8) tells a client that an endpoint which had sent it
// datagrams through this relay has disconnected.
type EndpointGone struct {
	EndpointID [EndpointIDLen]byte
}

// Ping (type 9) asks the peer to echo Data in a Pong; both sides send it.
type Ping struct {
	Data [PingDataLen]byte
}

// Pong (type 10) echoes a Ping's Data.
type Pong struct {
	Data [PingDataLen]byte
}

// Health (type 11, iroh-relay-v1 only) is a free-text connection problem.
type Health struct {
	Problem string
}

// Restarting (type 12) announces a relay restart. Defined but never sent by
// the Rust relay and ignored by iroh clients.
type Restarting struct {
	ReconnectInMillis uint32
	TryForMillis      uint32
}

// ReconnectIn is the advisory delay before reconnecting.
func (f *Restarting) ReconnectIn() time.Duration {
	return time.Duration(f.ReconnectInMillis) * time.Millisecond
}

// TryFor is the advisory total time to keep trying to reconnect.
func (f *Restarting) TryFor() time.Duration {
	return time.Duration(f.TryForMillis) * time.Millisecond
}

// Status (type 13, iroh-relay-v2 only) reports the connection's state.
type Status struct {
	Code StatusCode
}

// StatusCode is the Status frame's byte. Unknown values are legal and are
// ignored by clients.
type StatusCode uint8

const (
	// StatusHealthy: the connection recovered from an earlier problem.
	StatusHealthy StatusCode = 0
	// StatusSameEndpointIDConnected: another connection with this endpoint's
	// key took over; this one will receive no more datagrams.
	StatusSameEndpointIDConnected StatusCode = 1
	// StatusRateLimited: the relay throttles reading from this client
	// (iroh main after 1.0.3; older clients treat it as unknown).
	StatusRateLimited StatusCode = 2
)

// HealthText is what the Rust relay sends as a v1 Health problem in place of
// this status (its display text).
func (c StatusCode) HealthText() string {
	switch c {
	case StatusHealthy:
		return "The connection is healthy and has recovered from previous problems"
	case StatusSameEndpointIDConnected:
		return "Another endpoint connected with the same endpoint id. No more messages will be received."
	case StatusRateLimited:
		return "The relay is rate-limiting this endpoint; outbound relay traffic is being throttled. " +
			"Send less data over the relay, or, if you operate this relay, raise Limits::client_rx. " +
			"Read more about rate limiting at https://docs.iroh.computer/relays/rate-limiting"
	}
	return "Unsupported health message (" + strconv.Itoa(int(c)) + ")"
}

// StatusFrame returns the frame announcing status c to a client speaking v:
// Status under v2, Health with the equivalent text under v1.
func StatusFrame(c StatusCode, v Version) Frame {
	if v == V1 {
		return &Health{Problem: c.HealthText()}
	}
	return &Status{Code: c}
}

// ServerChallenge (type 0) carries the random bytes the client must sign.
type ServerChallenge struct {
	Challenge [ChallengeLen]byte
}

// ClientAuth (type 1) answers a challenge with the client's key and its
// signature over ChallengeMessage(challenge).
type ClientAuth struct {
	PublicKey [EndpointIDLen]byte
	Signature [SignatureLen]byte
}

// ServerConfirmsAuth (type 2) ends a successful handshake.
type ServerConfirmsAuth struct{}

// ServerDeniesAuth (type 3) ends a failed handshake with a reason.
type ServerDeniesAuth struct {
	Reason string
}

// Frame types.

func (*ClientToRelayDatagram) Type() FrameType      { return TypeClientToRelayDatagram }
func (*ClientToRelayDatagramBatch) Type() FrameType { return TypeClientToRelayDatagramBatch }
func (*RelayToClientDatagram) Type() FrameType      { return TypeRelayToClientDatagram }
func (*RelayToClientDatagramBatch) Type() FrameType { return TypeRelayToClientDatagramBatch }
func (*EndpointGone) Type() FrameType               { return TypeEndpointGone }
func (*Ping) Type() FrameType                       { return TypePing }
func (*Pong) Type() FrameType                       { return TypePong }
func (*Health) Type() FrameType                     { return TypeHealth }
func (*Restarting) Type() FrameType                 { return TypeRestarting }
func (*Status) Type() FrameType                     { return TypeStatus }
func (*ServerChallenge) Type() FrameType            { return TypeServerChallenge }
func (*ClientAuth) Type() FrameType                 { return TypeClientAuth }
func (*ServerConfirmsAuth) Type() FrameType         { return TypeServerConfirmsAuth }
func (*ServerDeniesAuth) Type() FrameType           { return TypeServerDeniesAuth }

func (*ClientToRelayDatagram) isFrame()      {}
func (*ClientToRelayDatagramBatch) isFrame() {}
func (*RelayToClientDatagram) isFrame()      {}
func (*RelayToClientDatagramBatch) isFrame() {}
func (*EndpointGone) isFrame()               {}
func (*Ping) isFrame()                       {}
func (*Pong) isFrame()                       {}
func (*Health) isFrame()                     {}
func (*Restarting) isFrame()                 {}
func (*Status) isFrame()                     {}
func (*ServerChallenge) isFrame()            {}
func (*ClientAuth) isFrame()                 {}
func (*ServerConfirmsAuth) isFrame()         {}
func (*ServerDeniesAuth) isFrame()           {}

// Encoded lengths. All types are below 64, so the type takes one byte.

const (
	datagramHeaderLen = 1 + EndpointIDLen + 1
	batchHeaderLen    = datagramHeaderLen + 2
)

func (f *ClientToRelayDatagram) EncodedLen() int      { return datagramHeaderLen + len(f.Payload) }
func (f *ClientToRelayDatagramBatch) EncodedLen() int { return batchHeaderLen + len(f.Payload) }
func (f *RelayToClientDatagram) EncodedLen() int      { return datagramHeaderLen + len(f.Payload) }
func (f *RelayToClientDatagramBatch) EncodedLen() int { return batchHeaderLen + len(f.Payload) }
func (*EndpointGone) EncodedLen() int                 { return 1 + EndpointIDLen }
func (*Ping) EncodedLen() int                         { return 1 + PingDataLen }
func (*Pong) EncodedLen() int                         { return 1 + PingDataLen }
func (f *Health) EncodedLen() int                     { return 1 + len(f.Problem) }
func (*Restarting) EncodedLen() int                   { return 1 + 8 }
func (*Status) EncodedLen() int                       { return 1 + 1 }
func (*ServerChallenge) EncodedLen() int              { return 1 + ChallengeLen }
func (*ClientAuth) EncodedLen() int                   { return clientAuthFrameLen }
func (*ServerConfirmsAuth) EncodedLen() int           { return 1 }
func (f *ServerDeniesAuth) EncodedLen() int {
	return 1 + postcard.VarintLen(uint64(len(f.Reason))) + len(f.Reason)
}

// clientAuthFrameLen is type ‖ key ‖ 0x40 ‖ signature = 98 bytes.
const clientAuthFrameLen = 1 + EndpointIDLen + 1 + SignatureLen

// Encoders.

func (f *ClientToRelayDatagram) Append(dst []byte) ([]byte, error) {
	return appendDatagram(dst, TypeClientToRelayDatagram, &f.Dst, f.ECN, 0, f.Payload)
}

func (f *ClientToRelayDatagramBatch) Append(dst []byte) ([]byte, error) {
	if f.SegmentSize == 0 {
		return dst, ErrZeroSegmentSize
	}
	return appendDatagram(dst, TypeClientToRelayDatagramBatch, &f.Dst, f.ECN, f.SegmentSize, f.Payload)
}

func (f *RelayToClientDatagram) Append(dst []byte) ([]byte, error) {
	return appendDatagram(dst, TypeRelayToClientDatagram, &f.Src, f.ECN, 0, f.Payload)
}

func (f *RelayToClientDatagramBatch) Append(dst []byte) ([]byte, error) {
	if f.SegmentSize == 0 {
		return dst, ErrZeroSegmentSize
	}
	return appendDatagram(dst, TypeRelayToClientDatagramBatch, &f.Src, f.ECN, f.SegmentSize, f.Payload)
}

// appendDatagram writes any of the four datagram frames; segSize 0 means
// the single form (no segment-size field).
func appendDatagram(dst []byte, t FrameType, id *[EndpointIDLen]byte, ecn ECN, segSize uint16, payload []byte) ([]byte, error) {
	if ecn > CE {
		return dst, ErrInvalidECN
	}
	if len(payload) == 0 {
		return dst, ErrEmptyDatagram
	}
	n := datagramHeaderLen + len(payload)
	if segSize != 0 {
		n += 2
	}
	if n > MaxPacketSize {
		return dst, ErrFrameTooLarge
	}
	dst = append(dst, byte(t))
	dst = append(dst, id[:]...)
	dst = append(dst, byte(ecn))
	if segSize != 0 {
		dst = be.AppendUint16(dst, segSize)
	}
	return append(dst, payload...), nil
}

func (f *EndpointGone) Append(dst []byte) ([]byte, error) {
	return append(append(dst, byte(TypeEndpointGone)), f.EndpointID[:]...), nil
}

func (f *Ping) Append(dst []byte) ([]byte, error) {
	return append(append(dst, byte(TypePing)), f.Data[:]...), nil
}

func (f *Pong) Append(dst []byte) ([]byte, error) {
	return append(append(dst, byte(TypePong)), f.Data[:]...), nil
}

func (f *Health) Append(dst []byte) ([]byte, error) {
	if !utf8.ValidString(f.Problem) {
		return dst, ErrInvalidUTF8
	}
	if f.EncodedLen() > MaxPacketSize {
		return dst, ErrFrameTooLarge
	}
	return append(append(dst, byte(TypeHealth)), f.Problem...), nil
}

func (f *Restarting) Append(dst []byte) ([]byte, error) {
	dst = append(dst, byte(TypeRestarting))
	dst = be.AppendUint32(dst, f.ReconnectInMillis)
	return be.AppendUint32(dst, f.TryForMillis), nil
}

func (f *Status) Append(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeStatus), byte(f.Code)), nil
}

func (f *ServerChallenge) Append(dst []byte) ([]byte, error) {
	return append(append(dst, byte(TypeServerChallenge)), f.Challenge[:]...), nil
}

func (f *ClientAuth) Append(dst []byte) ([]byte, error) {
	dst = append(dst, byte(TypeClientAuth))
	dst = append(dst, f.PublicKey[:]...)
	dst = append(dst, SignatureLen) // postcard byte-string length prefix (0x40)
	return append(dst, f.Signature[:]...), nil
}

func (*ServerConfirmsAuth) Append(dst []byte) ([]byte, error) {
	return append(dst, byte(TypeServerConfirmsAuth)), nil
}

func (f *ServerDeniesAuth) Append(dst []byte) ([]byte, error) {
	if !utf8.ValidString(f.Reason) {
		return dst, ErrInvalidUTF8
	}
	if f.EncodedLen() > MaxFrameSize {
		return dst, ErrReasonTooLong
	}
	dst = append(dst, byte(TypeServerDeniesAuth))
	dst = postcard.AppendVarint(dst, uint64(len(f.Reason)))
	return append(dst, f.Reason...), nil
}

// Segments yields the packets of a GSO-style batch: segSize-byte strides,
// the last one possibly shorter. A segSize of 0 yields payload whole.
func Segments(payload []byte, segSize uint16) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if segSize == 0 {
			if len(payload) > 0 {
				yield(payload)
			}
			return
		}
		step := int(segSize)
		for rest := payload; len(rest) > 0; {
			n := min(step, len(rest))
			if !yield(rest[:n:n]) {
				return
			}
			rest = rest[n:]
		}
	}
}

// Segments yields the batch's packets.
func (f *ClientToRelayDatagramBatch) Segments() iter.Seq[[]byte] {
	return Segments(f.Payload, f.SegmentSize)
}

// Segments yields the batch's packets.
func (f *RelayToClientDatagramBatch) Segments() iter.Seq[[]byte] {
	return Segments(f.Payload, f.SegmentSize)
}
