package relayproto

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// FrameType is the first field of every handshake and relay frame. The
// handshake (0–3) and relay (4–13) frames share one numbering space.
type FrameType uint8

// Frame types of iroh 1.0 (iroh-relay protos/common.rs).
const (
	TypeServerChallenge            FrameType = 0
	TypeClientAuth                 FrameType = 1
	TypeServerConfirmsAuth         FrameType = 2
	TypeServerDeniesAuth           FrameType = 3
	TypeClientToRelayDatagram      FrameType = 4
	TypeClientToRelayDatagramBatch FrameType = 5
	TypeRelayToClientDatagram      FrameType = 6
	TypeRelayToClientDatagramBatch FrameType = 7
	TypeEndpointGone               FrameType = 8
	TypePing                       FrameType = 9
	TypePong                       FrameType = 10
	TypeHealth                     FrameType = 11 // iroh-relay-v1 only
	TypeRestarting                 FrameType = 12
	TypeStatus                     FrameType = 13 // iroh-relay-v2 only

	maxFrameType = TypeStatus
)

var frameTypeNames = [...]string{
	"ServerChallenge", "ClientAuth", "ServerConfirmsAuth", "ServerDeniesAuth",
	"ClientToRelayDatagram", "ClientToRelayDatagramBatch",
	"RelayToClientDatagram", "RelayToClientDatagramBatch",
	"EndpointGone", "Ping", "Pong", "Health", "Restarting", "Status",
}

func (t FrameType) String() string {
	if t <= maxFrameType {
		return frameTypeNames[t]
	}
	return "FrameType(" + strconv.Itoa(int(t)) + ")"
}

// readFrameType decodes the QUIC varint frame type at the start of b and
// returns it with the number of bytes it took. Like iroh, any varint length
// is accepted; values beyond 13 are unknown.
func readFrameType(b []byte) (FrameType, int, error) {
	if len(b) == 0 {
		return 0, 0, ErrTruncatedFrameType
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, ErrTruncatedFrameType
	}
	v := uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	if v > uint64(maxFrameType) {
		return 0, 0, ErrUnknownFrameType
	}
	return FrameType(v), n, nil
}

// Version is the negotiated relay protocol version.
type Version uint8

// Protocol versions. V2 (iroh 0.98+, the 1.0 default) replaced the text
// Health frame by the one-byte Status frame.
const (
	V1 Version = 1
	V2 Version = 2
)

// Subprotocol returns the WebSocket subprotocol token for v, or "" if v is
// not a known version.
func (v Version) Subprotocol() string {
	switch v {
	case V1:
		return SubprotocolV1
	case V2:
		return SubprotocolV2
	}
	return ""
}

func (v Version) String() string {
	if s := v.Subprotocol(); s != "" {
		return s
	}
	return "Version(" + strconv.Itoa(int(v)) + ")"
}

// ParseSubprotocol maps a single subprotocol token (exact match, as the Rust
// client requires of the server's answer) to a Version.
func ParseSubprotocol(token string) (Version, bool) {
	switch token {
	case SubprotocolV1:
		return V1, true
	case SubprotocolV2:
		return V2, true
	}
	return 0, false
}

// NegotiateVersion implements the Rust server's choice from a client's
// Sec-WebSocket-Protocol line: split on commas, trim whitespace, ignore
// unknown tokens, pick the highest known version. ok is false when no token
// is known (the Rust server then answers 400).
func NegotiateVersion(offer string) (v Version, ok bool) {
	for token := range strings.SplitSeq(offer, ",") {
		if got, known := ParseSubprotocol(strings.TrimSpace(token)); known && got > v {
			v, ok = got, true
		}
	}
	return v, ok
}

// Direction says who sends a frame.
type Direction uint8

const (
	// ClientToRelay frames are sent by a client and decoded by the relay.
	ClientToRelay Direction = iota + 1
	// RelayToClient frames are sent by the relay and decoded by a client.
	RelayToClient
)

func (d Direction) String() string {
	switch d {
	case ClientToRelay:
		return "client→relay"
	case RelayToClient:
		return "relay→client"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// Allowed reports whether, after the handshake, a peer speaking version v
// decodes a frame of type t travelling in direction dir. The Rust relay only
// takes 4, 5, 9, 10 from clients (in every version); clients take 6, 7, 8, 9,
// 10, 12 plus Health (11) under v1 or Status (13) under v2. Anything else
// makes the Rust peer drop the connection.
func Allowed(t FrameType, v Version, dir Direction) bool {
	if v != V1 && v != V2 {
		return false
	}
	switch dir {
	case ClientToRelay:
		switch t {
		case TypeClientToRelayDatagram, TypeClientToRelayDatagramBatch, TypePing, TypePong:
			return true
		}
	case RelayToClient:
		switch t {
		case TypeRelayToClientDatagram, TypeRelayToClientDatagramBatch, TypeEndpointGone,
			TypePing, TypePong, TypeRestarting:
			return true
		case TypeHealth:
			return v == V1
		case TypeStatus:
			return v == V2
		}
	}
	return false
}

// AllowedInHandshake reports whether a frame of type t may travel in
// direction dir during the handshake: ClientAuth from the client;
// ServerChallenge, ServerConfirmsAuth and ServerDeniesAuth from the relay.
func AllowedInHandshake(t FrameType, dir Direction) bool {
	switch dir {
	case ClientToRelay:
		return t == TypeClientAuth
	case RelayToClient:
		return t == TypeServerChallenge || t == TypeServerConfirmsAuth || t == TypeServerDeniesAuth
	}
	return false
}

var be = binary.BigEndian
