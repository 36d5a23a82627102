// Package endpoint is irohspoke's iroh-style endpoint: a QUIC endpoint
// (package quic) whose datagrams travel either directly over one UDP socket
// or through iroh relays (package relay), identified and dialed by
// EndpointId.
//
// # Paths
//
// A path is a value, quic.Addr: a UDP address, or a relay path (relay URL
// plus the peer's EndpointId). The endpoint's socket implements
// quic.Transport: a write to a UDP address is a UDP send, a write to a relay
// path is queued on that relay's client (a full queue drops the datagram
// like a congested link; QUIC recovers), and a datagram that relay U
// delivers from peer P is read as coming from quic.Addr{Relay: {U, P}}.
// Relay URLs are normalised (identity.NormalizeRelayURL) so equal relays
// give equal paths.
//
// The endpoint keeps one relay client logged in at its home relay (so that
// peers reach it by EndpointId) and starts one more, lazily, for every
// other relay it must send through. Clients reconnect with backoff on their
// own; a connection on a relay path outlives a brief relay outage because
// QUIC only gives up after its idle timeout (30 s, with 5 s keep-alives).
//
// # Dialing
//
// Without multipath a QUIC connection stays on the path its handshake
// completed on, so Dial races whole connections, not paths: one direct
// dial per direct address at once, the relay dial after a short head start
// (Options.RelayHeadStart, 250 ms), at once when there is no direct
// address, or as soon as every direct dial failed. The first completed
// handshake wins and the others are cancelled or closed. A failed Dial
// returns a *DialError with the direct and the relay reasons.
//
// # Observability
//
// Metrics (see Metrics) use iroh's names where it has them and are
// available as an expvar map; relay status changes go to
// Options.OnRelayStatus and RelayStatus.
package endpoint
