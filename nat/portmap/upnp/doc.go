// Package upnp is a UPnP Internet Gateway Device client (IGD v1 and v2)
// limited to port mapping: SSDP M-SEARCH discovery, the device description,
// and the SOAP actions GetExternalIPAddress, AddPortMapping,
// AddAnyPortMapping (IGDv2) and DeletePortMapping on a WANIPConnection or
// WANPPPConnection service.
//
// Every HTTP request goes to the gateway's own LAN address and nowhere else:
// SSDP answers from another address are ignored, and description or control
// URLs that name another host (or a host name at all) are refused, before
// dialing and again when the socket connects. There are no proxies, no
// redirects, no keep-alives, and every body is read with a size limit.
package upnp
