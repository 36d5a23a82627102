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
// Tests (go test ./interop/natlab/roamlab/, about 25 s; root, nft,
// miniupnpd and natlab's requirements):
//
//   - TestPortMapGoesDirect: a Go or real iroh hub behind a masquerade NAT
//     that does not map; "irohspoke dial" behind a masquerade or a
//     fully-random NAT running miniupnpd maps its port and goes from the
//     relay to a direct path; the mapping is deleted when it closes.
//   - TestPortMapHubSide: our hub behind a mapping router announces the
//     mapped address; our spoke and a real iroh spoke go direct to it.
//   - TestRoaming: a spoke streaming to a Go or real iroh hub moves from
//     one NAT to another, has its NAT's conntrack flushed and moves onto
//     a public address; every event arrives once, the connection stays.
//   - TestDemoSendsNothingToTheGateway: "irohspoke demo" in a namespace
//     whose default gateway counts what reaches it: nothing does.
package roamlab
