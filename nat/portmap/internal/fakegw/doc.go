// Package fakegw is a loopback gateway for tests: a PCP and NAT-PMP server
// on one UDP port, an SSDP responder and a UPnP IGD over HTTP, all on
// 127.0.0.1, with hooks that make any of them lie.
package fakegw
