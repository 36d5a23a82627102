// Package quic is irohspoke's QUIC v1 endpoint: Endpoint dials and accepts
// connections authenticated by Ed25519 EndpointIds (TLS 1.3 with raw public
// keys, as iroh does), Conn opens streams and sends datagrams, and Stream
// is an io.ReadWriteCloser.
//
// # Driver design
//
// The protocol lives in two sans-IO cores that know neither sockets,
// clocks nor goroutines: the connection (quic/internal/core) and the
// endpoint (quic/internal/endpointcore). This package drives them:
//
//   - One reader goroutine per Endpoint reads the Transport and hands each
//     datagram, with the time, to the endpoint core under the Endpoint's
//     mutex, then does what it says: deliver to a connection, start a
//     server connection, or send back a Retry, Version Negotiation or
//     stateless reset. The endpoint core routes by the destination
//     connection ID of the first packet: every CID we issued (the first
//     one plus each EventNewCID, minus EventRetiredCID) and, for server
//     connections, the Initial DCID the client chose; a connection's
//     entries go when it stops. An unroutable short-header datagram is
//     first looked up in an index of every connection's peer reset tokens
//     (a stateless reset carries no CID of ours); otherwise it gets a
//     rate-limited stateless reset, always shorter than the trigger and at
//     least 21 bytes (RFC 9000 §10.3), so two endpoints cannot ping-pong
//     resets. An Initial of at least 1200 bytes with a DCID of at least 8
//     bytes may start a server connection when Config.ALPNs is set, and is
//     dropped otherwise. Long headers with an unknown version get Version
//     Negotiation.
//   - Which Initials start a connection is decided by the endpoint core's
//     admission gate (quic/internal/admission): it bounds the handshakes
//     in progress, overall and per source IP, and past a threshold answers
//     with a Retry whose token proves the client's address on its return
//     (see Config.MaxPendingHandshakes, RetryAbove,
//     MaxIncomingConnections). Handshaken server connections wait in its
//     accept queue for Accept.
//   - One driver goroutine per connection owns the core under the
//     connection's mutex. It wakes on received datagrams (queued by the
//     reader without taking that mutex), on application calls and on a
//     single timer re-armed to core.Timeout after every round. A round
//     feeds queued datagrams and expired timeouts to the core, dispatches
//     its events, and collects up to 16 datagrams from PollTransmit back to
//     back in one slab, which it writes to the Transport after releasing
//     the mutex; runs of equal-sized datagrams to one address go out as a
//     single UDP GSO send when the Transport implements BatchWriter.
//   - Application calls (Read, Write, OpenStream, ...) lock the mutex, call
//     the core, and wake the driver when they created work. A call that
//     must wait selects on a capacity-one signal channel (per stream for
//     readable/writable, per connection for accept, open and datagrams),
//     the connection's closed channel, its context or deadline. Events are
//     dispatched to those channels by the driver, so no wake-up is lost
//     and nothing polls.
//
// With Config.Multipath the core issues connection IDs for every path ID
// up front; each arrives as EventNewCID and joins the routing table like
// any other, so a datagram for any path of a connection reaches its driver
// whatever its source address. See path.go for the path API.
//
// Receive buffers come from a sync.Pool and go back once the core has
// processed them; send buffers are a fixed per-connection slab. Closing an
// Endpoint closes every connection with application code 0, sends the
// CONNECTION_CLOSE packets, waits for every driver and the reader to stop,
// then closes the Transport.
package quic
