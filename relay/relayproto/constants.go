package relayproto

import "time"

// HTTP upgrade details (iroh-relay http.rs).
const (
	// RelayPath is the only path on which a relay accepts the WebSocket upgrade.
	// Clients replace whatever path the relay URL carries with it.
	RelayPath = "/relay"
	// ProbePath answers 200 with an empty body; iroh uses it as a latency probe
	// and will not pick a relay as home without it (or QAD).
	ProbePath = "/ping"

	// SubprotocolHeader carries the offered (request) or chosen (response)
	// protocol versions.
	SubprotocolHeader = "Sec-WebSocket-Protocol"
	// SubprotocolV1 and SubprotocolV2 are the WebSocket subprotocol tokens.
	SubprotocolV1 = "iroh-relay-v1"
	SubprotocolV2 = "iroh-relay-v2"
	// SubprotocolOffer is the header value an iroh 1.0 client sends: every
	// known version, newest first, in one comma-separated line.
	SubprotocolOffer = SubprotocolV2 + ", " + SubprotocolV1

	// WebSocketVersion is the only Sec-WebSocket-Version the Rust server accepts.
	WebSocketVersion = "13"

	// ClientAuthHeader carries the TLS keying-material authentication
	// (base64url without padding); only sent over TLS.
	ClientAuthHeader = "x-iroh-relay-client-auth-v1"
	// AuthorizationHeader carries an optional "Bearer <token>" relay token.
	AuthorizationHeader = "Authorization"
	// AuthTokenQueryParam is the query parameter browsers use instead of the
	// Authorization header.
	AuthTokenQueryParam = "token"
)

// Handshake strings.
const (
	// ChallengeContext is the BLAKE3 derive_key context that turns a server
	// challenge into the 32-byte message the client signs.
	ChallengeContext = "iroh-relay handshake v1 challenge signature"
	// KeyingMaterialLabel is the TLS exporter label for the keying-material
	// shortcut; the exporter context is the client's 32-byte public key.
	KeyingMaterialLabel = "iroh-relay handshake v1"
	// KeyingMaterialLen is how many exporter bytes the shortcut uses: the first
	// half is signed, the second half is echoed as a suffix.
	KeyingMaterialLen = 32

	// DenyReasonSignatureInvalid is the reason a Rust server gives when the
	// ClientAuth signature does not verify.
	DenyReasonSignatureInvalid = "signature invalid"
	// DenyReasonNotAuthorized is the default reason for an access-control denial.
	DenyReasonNotAuthorized = "not authorized"
)

// Size limits (iroh-relay protos/relay.rs).
const (
	// MaxPacketSize bounds a relay frame's payload (after the type) on decode,
	// and the whole encoded frame (type included) on encode.
	MaxPacketSize = 64 * 1024
	// MaxFrameSize is the largest WebSocket message either Rust end accepts.
	MaxFrameSize = 1024 * 1024

	// EndpointIDLen is the size of an Ed25519 public key / EndpointId.
	EndpointIDLen = 32
	// ChallengeLen is the size of the server challenge.
	ChallengeLen = 16
	// SignatureLen is the size of an Ed25519 signature.
	SignatureLen = 64
	// PingDataLen is the size of Ping/Pong payloads.
	PingDataLen = 8

	// MaxDatagramLen is the largest content of a single-datagram frame
	// (type + id + ECN + content must fit in MaxPacketSize).
	MaxDatagramLen = MaxPacketSize - 1 - EndpointIDLen - 1
	// MaxBatchLen is the largest content of a datagram batch frame. The
	// protocol sets no separate limit on the number of datagrams in a batch.
	MaxBatchLen = MaxDatagramLen - 2
)

// Timing defaults of iroh 1.0 (iroh-relay defaults.rs, ping_tracker.rs,
// server/client.rs, server/http_server.rs; iroh relay actor).
const (
	// PingInterval is how often each side pings when it has heard nothing;
	// every received frame resets the timer.
	PingInterval = 15 * time.Second
	// ServerPingJitterMin and ServerPingJitterMax bound the uniform jitter the
	// Rust server adds to PingInterval (whole seconds).
	ServerPingJitterMin = 1 * time.Second
	ServerPingJitterMax = 5 * time.Second
	// PingTimeoutMax is the pong deadline before any RTT is known and the
	// upper clamp afterwards; PingTimeoutMin is the lower clamp.
	PingTimeoutMax = 5 * time.Second
	PingTimeoutMin = 500 * time.Millisecond
	// PingTimeoutRTTFactor multiplies the last measured RTT to get the pong
	// deadline (then clamped to [PingTimeoutMin, PingTimeoutMax]).
	PingTimeoutRTTFactor = 3

	// ServerWriteTimeout: the Rust server drops a client whose single frame
	// write takes longer than this.
	ServerWriteTimeout = 2 * time.Second
	// ClientSendTimeout is the iroh client's per-send timeout.
	ClientSendTimeout = 15 * time.Second
	// PerClientSendQueueDepth is the server's per-client queue, in frames;
	// datagrams for a full queue are dropped.
	PerClientSendQueueDepth = 512
	// ServerEstablishTimeout bounds accept → TLS → upgrade → handshake on the
	// Rust server.
	ServerEstablishTimeout = 30 * time.Second
	// ClientConnectTimeout bounds the iroh client's whole dial + handshake.
	ClientConnectTimeout = 10 * time.Second
	// NonHomeRelayIdleTimeout: iroh closes a non-home relay connection after
	// this long without sending.
	NonHomeRelayIdleTimeout = 60 * time.Second
	// UndeliverableDatagramTimeout: iroh drops queued datagrams for a relay
	// that stays disconnected this long.
	UndeliverableDatagramTimeout = 3 * time.Second
)

// PingTimeout returns the pong deadline iroh's ping tracker uses: the maximum
// until a round trip has been measured, then PingTimeoutRTTFactor × lastRTT
// clamped to [PingTimeoutMin, PingTimeoutMax].
func PingTimeout(lastRTT time.Duration, measured bool) time.Duration {
	if !measured {
		return PingTimeoutMax
	}
	return min(max(PingTimeoutRTTFactor*lastRTT, PingTimeoutMin), PingTimeoutMax)
}
