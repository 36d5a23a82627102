// Package lookup is iroh 1.0's address lookup: finding an endpoint's home
// relay and direct addresses from its EndpointId alone, and publishing
// our own.
//
// An endpoint publishes an EndpointInfo as TXT records ("relay=<url>",
// "addr=<ip:port>", "user-data=<text>", one per record) named
// "_iroh.<z-base-32 id>" inside a DNS message, signed as a pkarr packet
// (SignedPacket) and PUT to a pkarr relay (PkarrPublisher). Peers read it
// back from the relay (PkarrResolver) or with a DNS TXT query for
// "_iroh.<z32>.<origin>" (DNSResolver, with iroh's staggered retries);
// Resolvers runs several at once, first success wins. Server is a
// self-hostable subset of iroh-dns-server that offers both.
//
// The codecs (Message, TXT attributes, SignedPacket) are pure and separate
// from the clients and the server. The DNS codec covers what iroh needs:
// questions and records with raw RDATA, name compression, strict bounds; it
// is not a general DNS library. The DNS client uses
// golang.org/x/net/dns/dnsmessage instead (see dnsanswer.go for why both).
//
// Compatibility notes: Rust's TXT parser fails a whole lookup on an unknown
// key or a record without '='; ours skips them (the publisher never emits
// them). Both take the value between the first and second '='. Custom
// transport addresses ("addr=<hexid>_<hexdata>") are skipped.
//
// # Resolving as iroh does
//
// presets::N0 resolves by DNS only outside browsers (its PkarrResolver
// is for wasm), with the system configuration (hickory's
// read_system_conf): N0Resolver. SystemDNSResolver reads /etc/resolv.conf
// at every lookup, or falls back on Go's resolver. A lookup runs seven staggered
// attempts (0, 200, 300, 600, 1000, 2000, 3000 ms, ±20 %), each bounded by
// 3 s, the first success winning (iroh/src/address_lookup/dns.rs,
// iroh-dns/src/dns.rs). iroh's resolver sends its TXT queries without
// EDNS, so a UDP answer is limited to 512 bytes (about a dozen addr
// records); on a truncated (TC) answer it asks the same server again over
// TCP. Server therefore serves DNS over TCP too, and our client does the
// same fallback (it also asks with the 1232-byte EDNS size). Failures are
// reported once per lookup, as sentinel errors (ErrNotFound, ErrRefused,
// ErrNoAnswer, ErrStalePacket, ...) for errors.Is.
//
// # Server limits
//
// Server bounds what one client can hold or cause (ServerLimits): HTTP
// timeouts and connection caps, DNS-over-TCP caps with idle eviction, UDP
// response rate limiting with truncated "slip" answers, minimal answers to
// ANY (RFC 8482), and iroh's PUT rate limit per IPv4 address or IPv6 /64.
//
// # Publishing as iroh does
//
// What iroh 1.0.2 publishes with presets::N0, and when (read in the iroh
// source at tag v1.0.2); PkarrPublisher.UpdateAddrs does the same:
//
//   - presets::N0 adds PkarrPublisher::n0_dns(), which PUTs to
//     https://dns.iroh.link/pkarr (staging-dns.iroh.link when
//     IROH_FORCE_STAGING_RELAYS is set) (iroh/src/endpoint/presets.rs).
//   - Only the home relay URL is published, plus user data if set: the
//     builder's default filter is AddrFilter::relay_only(), which keeps IP
//     addresses away from a public server (iroh/src/address_lookup/pkarr.rs,
//     iroh-dns/src/endpoint_info.rs). Direct addresses need
//     addr_filter(AddrFilter::unfiltered()); here, PublishAddrs.
//   - Records carry TTL 30 s (DEFAULT_PKARR_TTL); the TTL only matters to
//     DNS caches, the relay keeps the packet regardless.
//   - The socket calls publish whenever its direct addresses or home relay
//     change, skipping when it has neither (nor user data)
//     (iroh/src/socket.rs publish_my_addr). The relay-only filter runs
//     after that check, so direct addresses without a relay publish an
//     empty record set.
//   - The publisher task publishes at once when the filtered info changes
//     (an n0_watcher Watchable, which wakes only on a different value:
//     with the relay-only filter an address change publishes nothing),
//     republishes every 5 minutes while unchanged
//     (DEFAULT_REPUBLISH_INTERVAL), and after the k-th failure in a row
//     retries after k seconds, growing without a cap; a success resets k.
//     A change does not reset k.
package lookup
