package relayproto

import "errors"

// Decoding errors. Each corresponds to a condition on which iroh's own
// decoder fails (and therefore drops the connection).
var (
	// ErrTruncatedFrameType: the message is empty or ends inside the type varint.
	ErrTruncatedFrameType = errors.New("relayproto: message too short for a frame type")
	// ErrUnknownFrameType: the type is not one iroh 1.0 defines (0–13).
	ErrUnknownFrameType = errors.New("relayproto: unknown frame type")
	// ErrUnexpectedFrameType: a known type that is not valid in this
	// direction or phase (e.g. a datagram-to-relay arriving at a client, or a
	// handshake frame after the handshake).
	ErrUnexpectedFrameType = errors.New("relayproto: frame type not valid in this direction or phase")
	// ErrFrameNotAllowedInVersion: Health under iroh-relay-v2 or Status under
	// iroh-relay-v1.
	ErrFrameNotAllowedInVersion = errors.New("relayproto: frame type not allowed in this protocol version")
	// ErrFrameTooLarge: the payload exceeds MaxPacketSize on decode, or the
	// encoded frame would exceed it on encode.
	ErrFrameTooLarge = errors.New("relayproto: frame exceeds the maximum packet size")
	// ErrWrongLength: a fixed-size frame (EndpointGone, Ping, Pong,
	// Restarting) has a different payload length.
	ErrWrongLength = errors.New("relayproto: wrong payload length for frame type")
	// ErrTruncated: a variable-size frame or a postcard body ends before its
	// mandatory fields (e.g. a datagram without its id/ECN/segment size, an
	// empty Status).
	ErrTruncated = errors.New("relayproto: frame payload truncated")
	// ErrInvalidEndpointID: 32 bytes that are not a valid Ed25519 point.
	ErrInvalidEndpointID = errors.New("relayproto: endpoint id is not a valid Ed25519 public key")
	// ErrInvalidUTF8: a Health text or deny reason is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("relayproto: text is not valid UTF-8")
	// ErrBadVarint: a postcard varint is longer than postcard allows.
	ErrBadVarint = errors.New("relayproto: malformed postcard varint")
	// ErrBadSignatureLength: a postcard signature is not 64 bytes long, or a
	// signing callback returned something other than 64 bytes.
	ErrBadSignatureLength = errors.New("relayproto: signature is not 64 bytes")
)

// Encoding errors: refusing frames a Rust peer could not (or should not) take.
var (
	// ErrEmptyDatagram: datagram frames with no content are refused by iroh's
	// senders and make the Rust relay's writer fail on the destination.
	ErrEmptyDatagram = errors.New("relayproto: empty datagram content")
	// ErrZeroSegmentSize: a batch frame needs a non-zero segment size (zero
	// would be decoded as a single datagram).
	ErrZeroSegmentSize = errors.New("relayproto: batch segment size is zero")
	// ErrInvalidECN: the ECN value does not fit in two bits.
	ErrInvalidECN = errors.New("relayproto: ECN codepoint out of range")
	// ErrReasonTooLong: a deny reason cannot be described by a handshake frame
	// of at most MaxFrameSize bytes.
	ErrReasonTooLong = errors.New("relayproto: deny reason too long")
	// ErrUnknownVersion: a Version value other than V1 or V2.
	ErrUnknownVersion = errors.New("relayproto: unknown protocol version")
)

// Authentication errors.
var (
	// ErrSignatureInvalid: the Ed25519 signature does not verify under iroh's
	// strict rules.
	ErrSignatureInvalid = errors.New("relayproto: signature invalid")
	// ErrKeyingMaterialMismatch: the keying-material suffix differs from the
	// server's exporter output (typically a TLS-terminating proxy in between).
	ErrKeyingMaterialMismatch = errors.New("relayproto: keying material suffix mismatch")
	// ErrBadHeaderEncoding: the client auth header is not strict base64url
	// without padding.
	ErrBadHeaderEncoding = errors.New("relayproto: client auth header is not base64url without padding")
	// ErrBadKeyingMaterial: the exporter returned other than KeyingMaterialLen bytes.
	ErrBadKeyingMaterial = errors.New("relayproto: keying material has the wrong length")
)
