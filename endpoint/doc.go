// Package endpoint is irohspoke's iroh-style endpoint: a QUIC endpoint
// (package quic) whose datagrams travel either directly over one UDP socket
// or through iroh relays (package relay), identified and dialed by
// EndpointId.
//
// # Presets: reaching a hub by its EndpointId alone
//
// Options.Preset bundles the defaults, as iroh's presets do. N0 is iroh
// 1.0.2's presets::N0 and the one to use:
//
//	ep, err := endpoint.Bind(ctx, endpoint.Options{Preset: endpoint.N0()})
//	t, err := spoke.Dial(ctx, ep, identity.EndpointAddr{ID: hubID})
//
// With N0 the endpoint binds a dual-stack socket ("[::]:0", IPv4 only
// where the kernel has no IPv6), chooses its home relay among n0's four
// relays by latency (below), learns its public address by QUIC Address
// Discovery at the home relay, maps its port at the home gateway (PCP,
// NAT-PMP or UPnP, below), publishes its home relay URL (and no IP
// address, as iroh) to n0's pkarr relay, and looks peers up by DNS
// ("_iroh.<z32>.dns.iroh.link." TXT through the system's nameservers;
// native iroh resolves by DNS only and uses pkarr only to publish).
// IROH_FORCE_STAGING_RELAYS set to anything non-empty makes N0 return
// N0Staging, as in iroh. Minimal, the zero value, does none of this: no
// relay, no lookup, no publishing, no port mapping, an IPv4 socket. To change a part, edit
// the preset (p := N0(); p.Publish = false) or set the overriding Options
// fields: RelayURL pins the home relay, Lookup and Publisher replace the
// preset's, BindAddr its socket. PresetByName maps "n0", "n0-staging" and
// "minimal" for command lines.
//
// # Home relay
//
// With more than one relay and none pinned, the endpoint measures them as
// iroh's net_report: a full report at Bind, after a major network change
// (NetworkChanged) and every 5 minutes probes every relay by QAD (QUIC to
// the relay's QAD port from our own socket; handshake RTT) and by HTTPS
// (GET /ping at 200, 300 and 400 ms; time to the headers), and ends when
// enough relays answered or after 5 s; in between, every 20-26 s, a report
// reads the kept QAD connection's RTT. The home relay is the relay with
// the lowest latency over the last 5 minutes among those that answered
// the latest report, and a home relay is only replaced by one at most 2/3
// of its current latency (iroh's hysteresis). Unlike iroh, which redials
// a dead home relay for ever, the endpoint fails over to the next-nearest
// relay when its home relay connection has been down for 1.5 s, and
// connections follow (see Multipath). A home change is published at once
// and moves QAD to the new relay. NetReport, Options.OnNetReport and the
// metrics ("reports", "relay_home_change", "relay_failovers",
// "home_relay", "relay_latency_ms") show the choice and the latencies.
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
// handshake wins and the others are cancelled or closed. An address with
// the ID only is looked up first. A failed Dial returns a *DialError with
// the direct and the relay reasons, each saying what went wrong:
// ErrWrongPeerKey (the peer proved another key), ErrRelayUnreachable with
// the relay's reason (refused, TLS, a proxy's status, login denied; the
// relay dial ends at the first failed attempt rather than at the handshake
// timeout), "no answer … through relay" (the relay is fine, the peer is
// not there), or the lookup's error.
//
// # Multipath and hole punching
//
// By default (unless Options.DisableMultipath) the endpoint negotiates QUIC
// multipath and n0 NAT traversal (iroh 1.0 offers both), and a path manager
// runs for every connection that got them. Dial still races as above, but
// the winner is no longer stuck on its path:
//
//   - As client it starts a hole-punching round when the connection is up,
//     whenever the server's announced candidates (ADD_ADDRESS) or ours
//     change, and every 60 s while no direct path has an RTT of 10 ms or
//     less. Rounds are at least 1 s apart, 5 s when no candidate is new
//     (iroh's rule; the 1 s is ours, so that a peer that keeps changing
//     its candidates cannot make us punch on every poll). A probe that
//     gets through opens a direct path, usable at once (the answer proved
//     the address; the path's own challenge follows). A connection that
//     started direct gets the relay as a Backup path.
//   - As client, when every path runs through relays we are no longer
//     connected to, it opens a relay path through where the peer may be
//     now: the relays it was dialed with, what lookup returns (the peer
//     republishes a new home relay at once) and our own home relay.
//     Paths through relays that are down are never selected. So a
//     connection survives the peer's home relay dying.
//   - As server it announces its candidates in its first flight, so the
//     client can punch as its handshake completes; the client punches.
//   - Both select the data path as iroh does: a validated direct path over
//     a relay, among equals the lower RTT with a 3 ms bonus for IPv6, and a
//     switch only for a path faster by more than 5 ms. The selected path
//     is Available, the others Backup. A client closes redundant direct
//     paths and keeps relay paths as backups.
//
// PathChanged signals a change of the selected path; DialHub's Conn
// reports it to spoke targets (EventPathChanged). The manager wakes on the
// connection's path events, candidate and relay changes, and once a
// second for what has no event (RTT drift, retry spacing).
//
// Candidates are Addrs (interface addresses with our UDP port) plus, with
// QAD (Preset.QAD or Options.RelayQAD), our public addresses as relays'
// QUIC Address Discovery endpoints see them (PublicAddr), and our port
// mapping's external address (PortMap). The endpoint
// keeps one QAD connection to the home relay open from its own socket;
// when the reported address changes, clients start a new round and
// servers update their announcements (ADD_ADDRESS / REMOVE_ADDRESS). Addr
// (the ticket) includes the public address; Addrs does not. Behind an endpoint-independent ("cone") NAT
// the public address is what every peer reaches, so two peers both behind
// such NATs can go direct. Behind a NAT that picks a new port per
// destination ("symmetric") the address the relay saw is useless to
// peers, and such connections stay on the relay. Without QAD an upgrade
// needs one side reachable at an address it knows.
//
// # Port mapping and network changes
//
// With Preset.PortMapping (on in N0, off in Minimal; Options.DisablePortMapping
// turns it off) the endpoint asks its home gateway to map its UDP port
// (nat/portmap: PCP, NAT-PMP, then UPnP IGD), as iroh's portmapper does.
// The mapped address is a candidate like the QAD address: servers
// announce it, clients offer it in their rounds, Addr includes it, and it
// is published with PublishAddrs. A mapping is asked for again on every
// net report (iroh's procure) and deleted at the gateway on Close. A
// socket bound to loopback is never mapped. PortMap reports the mapping.
// Behind a NAT whose gateway maps, the peer's probes reach us at the
// mapped address, so a connection goes direct even where the NAT picks a
// new port per destination or the peer sits behind a NAT of its own.
//
// The endpoint watches interfaces, addresses and routes itself
// (nat/netmon; Options.DisableNetworkMonitor to stop it) and calls
// NetworkChanged on every change, as iroh's netwatch: addresses are read
// again, relay connections checked (one from an address that is gone is
// redialed at once, the others pinged), the home relay chosen again (a
// full report), QAD redialed, the port mapping renewed at the new gateway,
// the addresses republished; multipath clients move their direct paths to
// the new address and punch again, so a connection survives the spoke
// moving between networks. Without multipath a direct client connection
// whose route now leaves from another local address migrates actively (a
// fresh connection ID and a PATH_CHALLENGE, RFC 9000 §9.2;
// quic.Conn.Migrate); a relayed one stays on its relay.
//
// A peer that checks one of our direct paths again (quic.Conn.PeerRechecks)
// saw us at a new address, as after a NAT rebinding, which no monitor
// notices: the relay connections are checked then too. When a relay
// connection comes back after it was lost, our paths through it are
// checked again (quic.Conn.RecheckPath): iroh's hub puts stream data on
// the relay path while it validates our direct path's new address, and
// would resend what the dead relay link swallowed only at its next,
// backed-off probe timeout; its answer to our challenge, once we ACK it,
// lets it resend at once.
//
// # Observability
//
// Metrics (see Metrics) use iroh's names where it has them and are
// available as an expvar map; relay status changes go to
// Options.OnRelayStatus and RelayStatus, home relay choices and latencies
// to Options.OnNetReport and NetReport.
//
// # API at a glance
//
//   - Bind(ctx, Options) (*Endpoint, error); Options.Preset: N0(),
//     N0Staging(), Minimal(), PresetByName(name); Preset{Name, Relays
//     []RelayNode{URL, QADPort}, PkarrURL, DNSOrigin, QAD, Publish,
//     DualStack}; StagingEnv.
//   - Endpoint: Dial(ctx, identity.EndpointAddr, alpn), Accept, Addr
//     (ticket), ID, HomeRelay, WaitRelay, RelayStatus, NetReport,
//     NetworkChanged(major), PublicAddr, QADStatus, PortMap, Candidates,
//     Addrs, LocalAddr, PathChanged, Metrics, Expvar, PublishExpvar, Close.
//   - Errors: ErrNoPath, ErrWrongPeerKey, ErrRelayUnreachable,
//     ErrNoHomeRelay, ErrQADNoRelay, ErrBadBindAddr, ErrClosed, *DialError.
package endpoint
