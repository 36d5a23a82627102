package relay

import (
	"expvar"
	"sync/atomic"
)

// ServerMetrics counts what a Server did. Names follow iroh-relay's
// "relayserver" metrics group where one exists.
type ServerMetrics struct {
	Accepts             atomic.Int64 // accepts: connections that finished the handshake
	WebsocketAccepts    atomic.Int64 // websocket_accepts: WebSocket upgrades
	Disconnects         atomic.Int64 // disconnects
	Clients             atomic.Int64 // clients currently connected (ours; a gauge)
	BytesRecv           atomic.Int64 // bytes_recv: datagram payload bytes received
	BytesSent           atomic.Int64 // bytes_sent: datagram payload bytes queued to a destination
	SendPacketsRecv     atomic.Int64 // send_packets_recv: datagram frames received
	SendPacketsSent     atomic.Int64 // send_packets_sent: datagram frames forwarded
	SendPacketsDropped  atomic.Int64 // send_packets_dropped: unknown destination, full queue, empty
	OtherPacketsDropped atomic.Int64 // other_packets_dropped: EndpointGone/Status lost to a full queue
	GotPing             atomic.Int64 // got_ping
	SentPong            atomic.Int64 // sent_pong
	UnknownFrames       atomic.Int64 // unknown_frames: malformed or not allowed frames (connection closed)
	AuthFailures        atomic.Int64 // auth_failures (ours): bad signatures and denied tokens
	BytesRxRatelimited  atomic.Int64 // bytes_rx_ratelimited_total
	ConnsRxRatelimited  atomic.Int64 // conns_rx_ratelimited_total
	WriteTimeouts       atomic.Int64 // write_timeouts (ours): clients cut off by the write timeout
	KeyingMaterialAuths atomic.Int64 // keying_material_auths (ours): logins via the TLS exporter header
	Conns               atomic.Int64 // conns (ours): open TCP connections (a gauge)
	ConnsRefused        atomic.Int64 // conns_refused (ours): connections closed over MaxConns or MaxConnsPerIP
	LoginTimeouts       atomic.Int64 // login_timeouts (ours): upgraded sockets that did not log in within EstablishTimeout
}

// expvarMap returns a live expvar view of m.
func (m *ServerMetrics) expvarMap() *expvar.Map {
	mp := new(expvar.Map).Init()
	add := func(name string, v *atomic.Int64) {
		mp.Set(name, expvar.Func(func() any { return v.Load() }))
	}
	add("accepts", &m.Accepts)
	add("websocket_accepts", &m.WebsocketAccepts)
	add("disconnects", &m.Disconnects)
	add("clients", &m.Clients)
	add("bytes_recv", &m.BytesRecv)
	add("bytes_sent", &m.BytesSent)
	add("send_packets_recv", &m.SendPacketsRecv)
	add("send_packets_sent", &m.SendPacketsSent)
	add("send_packets_dropped", &m.SendPacketsDropped)
	add("other_packets_dropped", &m.OtherPacketsDropped)
	add("got_ping", &m.GotPing)
	add("sent_pong", &m.SentPong)
	add("unknown_frames", &m.UnknownFrames)
	add("auth_failures", &m.AuthFailures)
	add("bytes_rx_ratelimited_total", &m.BytesRxRatelimited)
	add("conns_rx_ratelimited_total", &m.ConnsRxRatelimited)
	add("write_timeouts", &m.WriteTimeouts)
	add("keying_material_auths", &m.KeyingMaterialAuths)
	add("conns", &m.Conns)
	add("conns_refused", &m.ConnsRefused)
	add("login_timeouts", &m.LoginTimeouts)
	return mp
}
