// Package natlab builds throwaway network topologies out of Linux network
// namespaces, veth pairs, a bridge and nftables NAT, so tests can run real
// iroh and irohspoke peers behind NATs.
//
// A lab has one "public" namespace holding the bridge br0, which stands for
// the internet (198.51.100.0/24, a documentation range that exists only
// inside the lab). Public hosts plug into it directly. Each NAT is a router
// namespace with a WAN veth on the bridge and a LAN veth to one private host
// (10.N.0.0/24), whose default route points at the router. No lab namespace
// has a link to the host's network, so nothing started in the lab can send
// traffic anywhere but the lab.
//
// The Go test process itself stays in the host's namespace: it is root,
// creates the lab namespaces, and starts every peer (Go binaries, real iroh
// through interop's Netns option) inside them with ip netns exec. Sockets the
// test opens itself (Host.ListenUDP) are created inside a lab namespace too.
//
// Use Main from TestMain: it checks the requirements (root, ip, nft, node
// and the interop npm modules), removes labs left behind by killed runs, and
// removes the irohspoke binary built for the lab afterwards.
package natlab
