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
// # Multipath and hole punching
//
// By default (unless Options.DisableMultipath) the endpoint negotiates QUIC
// multipath and n0 NAT traversal (iroh 1.0 offers both), and a path manager
// runs for every connection that got them. Dial still races as above, but
// the winner is no longer stuck on its path:
//
//   - As client it starts a hole-punching round when the connection is up,
//     whenever the server's announced candidates (ADD_ADDRESS) change, and
//     every 60 s while no direct path has an RTT of 10 ms or less (rounds
//     with unchanged candidates at least 5 s apart). Our candidates are
//     Addrs: interface addresses with our UDP port. A probe that gets
//     through opens a direct path. A connection that started direct gets
//     the relay as a Backup path.
//   - As server it announces Addrs as candidates; the client punches.
//   - Both select the data path as iroh does: a validated direct path over
//     a relay, among equals the lower RTT with a 3 ms bonus for IPv6, and a
//     switch only for a path faster by more than 5 ms. The selected path
//     is Available, the others Backup. A client closes redundant direct
//     paths and keeps relay paths as backups.
//
// PathChanged signals a change of the selected path; DialHub's Conn
// reports it to spoke targets (EventPathChanged). The manager polls the
// connection's paths every 50 ms, which bounds how quickly it reacts.
//
// Candidates are Addrs (interface addresses with our UDP port) plus, with
// Options.RelayQAD, our public address as the home relay's QUIC Address
// Discovery endpoint sees it (PublicAddr). The endpoint keeps one QAD
// connection to the relay open from its own socket; when the reported
// address changes, clients start a new round and servers update their
// announcements (ADD_ADDRESS / REMOVE_ADDRESS). Ticket includes the public
// address; Addrs does not. Behind an endpoint-independent ("cone") NAT
// the public address is what every peer reaches, so two peers both behind
// such NATs can go direct. Behind a NAT that picks a new port per
// destination ("symmetric") the address the relay saw is useless to
// peers, and such connections stay on the relay. Without QAD an upgrade
// needs one side reachable at an address it knows.
//
// # Observability
//
// Metrics (see Metrics) use iroh's names where it has them and are
// available as an expvar map; relay status changes go to
// Options.OnRelayStatus and RelayStatus.
package endpoint
