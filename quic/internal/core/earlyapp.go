package core

import "github.com/alkdev/irohspoke/quic/internal/wire"

// maxEarlyApp bounds the 1-RTT packets a server keeps while it cannot
// read them yet.
const maxEarlyApp = 8

// earlyApp is a 1-RTT packet that reached a server before the client's
// Finished gave it the keys to read it (RFC 9000 §5.7 lets it wait). The
// common case is a hole-punching probe: the client knows our candidates
// from our first flight and probes them directly at once, while its
// Finished still travels through the relay; dropping the probe would
// cost the client its probe retry delay.
type earlyApp struct {
	rx  rxDatagram
	pkt []byte
}

// keepEarlyApp copies pkt, a 1-RTT packet of rx that cannot be read yet,
// if the server is still handshaking and has room.
func (c *Conn) keepEarlyApp(rx *rxDatagram, pkt []byte) {
	if c.side != Server || c.state != stateHandshake || len(c.earlyApp) >= maxEarlyApp {
		return
	}
	c.earlyApp = append(c.earlyApp, earlyApp{rx: *rx, pkt: append([]byte(nil), pkt...)})
}

// replayEarlyApp processes the kept packets once they can be read. Their
// datagrams counted toward the anti-amplification budget on arrival.
func (r receiver) replayEarlyApp() {
	c := r.c
	if len(c.earlyApp) == 0 || !c.app.canRead {
		return
	}
	kept := c.earlyApp
	c.earlyApp = nil
	for i := range kept {
		rx := kept[i].rx
		rx.charged = true
		pkt, _, h, err := wire.SplitPacket(kept[i].pkt, LocalCIDLen)
		if err != nil {
			continue
		}
		r.packet(&rx, pkt, &h)
		if c.state >= stateDraining {
			return
		}
	}
}
