// Package relay implements both ends of the iroh 1.0 relay protocol over
// WebSocket: a Client that keeps a connection to a relay alive (reconnecting
// with backoff) and exchanges datagrams with other endpoints through it, and
// a Server that is an iroh-compatible relay (routing by EndpointId, the
// challenge and TLS keying-material logins, keepalive, optional bearer
// tokens and rate limiting). Against hostile peers the server caps
// connections per IP (/64 for IPv6) and in total, and bounds every stage
// with a deadline (request, idle keep-alive, login, writes); the client
// bounds the upgrade response it reads.
//
// The frame codec lives in relay/relayproto; the WebSocket layer in
// relay/internal/websocket.
package relay
