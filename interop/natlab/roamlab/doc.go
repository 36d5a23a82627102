// Package roamlab tests the endpoint's port mapping and its reaction to
// network changes with real gateways and real peers, in network
// namespaces of its own:
//
//	public segment 5.5.6.0/24 (bridge br0): relay, hubs, NAT routers' WANs
//	router "x" (nftables masquerade, optionally fully-random, optionally
//	miniupnpd) ── LAN 10.N.0.0/24 ── one host interface
//
// A host may have several uplinks: a LAN link to each of several routers
// and a link straight onto the public segment, each brought up or down
// while peers run, which is how a spoke moves between networks.
//
// The public side is 5.5.6.0/24 rather than a documentation range because
// miniupnpd 2.3.1 refuses to map behind a reserved external address (the
// RFC 5737 ranges included). No namespace has a link to the host's
// network, so nothing sent to 5.5.6.0/24 leaves the lab.
//
// The tests also check that the demo ("irohspoke demo") sends nothing to
// a gateway: it runs in a namespace whose default gateway only counts
// what reaches it.
package roamlab
