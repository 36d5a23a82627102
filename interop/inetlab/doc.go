// Package inetlab builds an offline copy of the internet an iroh endpoint
// expects, out of network namespaces, so that "irohspoke hub" and
// "irohspoke dial --hub ID" can run with no relay or lookup flags at all.
//
// One bridge stands for the internet (addresses in 20.0.0.0/8, which exist
// only inside the lab: no namespace has a link to the host's network). On it
// sit:
//
//   - a DNS host (20.0.0.53) that is every lab namespace's resolver
//     (/etc/netns/<ns>/resolv.conf). A small DNS front answers A/AAAA for
//     n0's relay names and for dns.iroh.link, and forwards the _iroh TXT
//     zones to two "irohspoke lookup-server" processes (production and
//     staging origin). A TLS front on 443 (and plain HTTP on 80) serves the
//     pkarr API as https://dns.iroh.link/pkarr and
//     https://staging-dns.iroh.link/pkarr;
//   - one host per relay name (use1-1.relay.n0.iroh.link. and the others),
//     each running "irohspoke relay" with HTTPS on 443 and QAD on UDP 7842,
//     optionally behind a delaying proxy that adds latency;
//   - an optional plain-HTTP relay for real iroh, which trusts only its
//     built-in roots;
//   - public hosts, and homes: a NAT router (natlab's rulesets) with one
//     private host behind it.
//
// Certificates come from a test CA made per lab; Go processes trust it
// only through SSL_CERT_FILE. Every server counts what reaches it (DNS
// queries by name, pkarr requests by host, new connections per relay host
// through nftables counters), so tests can assert which infrastructure an
// endpoint used, or that it used none.
package inetlab
