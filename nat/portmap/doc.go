// Package portmap keeps a port mapping for one local UDP port on the home
// gateway with PCP, NAT-PMP or UPnP IGD, and reports the external address.
//
// A Mapper finds the gateway from the routing table, probes the three
// protocols, maps the port with the best one available, renews the lease at
// half its lifetime, re-probes when asked (Probe, OnNetworkChange, Procure)
// and deletes the mapping on Close. Every change of the external address is
// an Event with a new version number.
//
// # Following iroh
//
// Numbers and order come from iroh's portmapper crate: n0-computer/net-tools,
// portmapper v0.19.1 (tag portmapper-v0.19.1, commit 3a58c56b), the version
// iroh v1.0.3 depends on. Files: portmapper/src/lib.rs, pcp.rs, nat_pmp.rs,
// upnp.rs, current_mapping.rs.
//
//   - Timeouts (lib.rs mod defaults): PCP and NAT-PMP wait 500 ms for an
//     answer, the UPnP SSDP search 1 s. One request, no retransmission.
//   - Probes run the three protocols concurrently: PCP ANNOUNCE, NAT-PMP
//     external address request, UPnP search. A protocol seen available is
//     trusted for 10 minutes (AVAILABILITY_TRUST_DURATION) and not probed
//     again; "recently probed" means within 5 s (UNAVAILABILITY_TRUST_DURATION).
//   - Choice (Service::get_mapping): PCP if available, else NAT-PMP if
//     available, else UPnP if available or enabled, else PCP and then NAT-PMP
//     if not probed in the last 5 s.
//   - Requested lifetimes: PCP 3600 s (pcp.rs MAPPING_REQUESTED_LIFETIME_SECONDS),
//     NAT-PMP 7200 s (nat_pmp.rs), UPnP lease 7200 s with description
//     "iroh-portmap" (upnp.rs; ours says "irohspoke").
//   - Renewal (current_mapping.rs): at half the granted lifetime the mapping
//     is requested again, asking for the same external address/port (PCP) or
//     port (NAT-PMP, UPnP: AddPortMapping on that port first, then any port).
//     If that fails, the mapping expires after a second half lifetime, the
//     address is withdrawn and a new mapping is sought. UPnP's half lifetime
//     is fixed at one hour (half the 7200 s lease).
//   - PCP answers must echo the request's nonce, protocol and internal
//     port; NAT-PMP answers the internal port and protocol; a zero external
//     port is refused. Release: PCP and NAT-PMP a request with lifetime 0
//     (PCP with the mapping's nonce), UPnP DeletePortMapping.
//
// Where this package differs, on purpose:
//
//   - iroh v1.0.3 never calls the crate's probe, so its first choice is
//     always UPnP. Here the first mapping attempt probes (when no probe is
//     fresher than 10 minutes), so the preference order PCP, NAT-PMP, UPnP
//     takes effect; if the chosen protocol fails the next available one is
//     tried in the same attempt.
//   - That first attempt maps as soon as the most preferred protocol that
//     answers is certain (it answered and every more preferred one said
//     no), while slower probes still run: PCP's answer in milliseconds
//     does not wait for UPnP's 1 s search. The order stays iroh's.
//   - External addresses that cannot be reached from the internet (private,
//     shared 100.64/10, loopback, link-local, multicast, unspecified) are
//     refused, as are answers from any address but the gateway's port.
//   - A major network change with a new gateway or local address drops the
//     old mapping (best-effort delete) and starts over.
//   - Release waits up to 500 ms for the gateway's answer instead of only
//     sending the request.
//   - UPnP HTTP requests time out after 3 s (iroh relies on its library).
package portmap
