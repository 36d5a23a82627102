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
// is not a general DNS library.
//
// Compatibility notes: Rust's TXT parser fails a whole lookup on an unknown
// key or a record without '='; ours skips them (the publisher never emits
// them). Both take the value between the first and second '='. Custom
// transport addresses ("addr=<hexid>_<hexdata>") are skipped.
//
// iroh's resolver sends its TXT queries without EDNS, so a UDP answer is
// limited to 512 bytes (about a dozen addr records); on a truncated (TC)
// answer it asks the same server again over TCP. Server therefore serves
// DNS over TCP too. Our DNS client has no TCP fallback: a truncated answer
// is ErrTruncated (it requests the 1232-byte EDNS size, which our server's
// answers fit).
package lookup
