// Package portmaplab runs nat/portmap against the real miniupnpd (Debian's
// nftables build) in three network namespaces of its own:
//
//	public host "pub" 5.5.5.2 ── wan 5.5.5.1 [router: nftables + miniupnpd] lan 10.77.0.1 ── LAN host 10.77.0.2
//
// The public side uses 5.5.5.0/24 because miniupnpd 2.3.1 refuses to map
// when its external address is in a reserved range (RFC 1918, 100.64/10 and
// the RFC 5737 documentation ranges included). The namespaces have no link
// to the host's network, so nothing addressed to 5.5.5.0/24 leaves them.
//
// The mapper runs in a child process, this test binary re-executed inside
// the LAN namespace, so that gateway discovery reads that namespace's
// routing table exactly as in production. The child reports events and
// received datagrams as JSON lines; the parent sends UDP from the public
// host to the mapped address and reads miniupnpd's lease file.
//
// Each protocol can be served alone: miniupnpd's enable_upnp and
// enable_natpmp (which covers NAT-PMP and PCP together) switch UPnP and the
// port-5351 protocols, and an nftables rule on the router drops datagrams
// to port 5351 whose first byte is 0 (NAT-PMP) or 2 (PCP).
package portmaplab
