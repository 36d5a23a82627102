package core

import (
	"errors"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// ECN is the ECN codepoint a datagram arrived with.
type ECN = recovery.ECN

// rxDatagram is the received datagram being processed.
type rxDatagram struct {
	from    Addr
	ecn     ECN
	size    int
	charged bool // size counts toward a path's anti-amplification budget
}

// rxPacket is one authenticated packet of rx, as its frames see it.
type rxPacket struct {
	rx   *rxDatagram
	lvl  level
	typ  wire.PacketType
	path *path
	dcid []byte
}

// HandleDatagram processes one received datagram, which it may modify in
// place (header protection is removed and payloads decrypted in the buffer).
func (c *Conn) HandleDatagram(now time.Time, from Addr, ecn ECN, data []byte) {
	if c.state == stateDraining || c.state == stateClosed {
		return
	}
	p := c.paths[0]
	if from != p.addr && c.side == Client && !c.initial.gotServer {
		// Like noq with server_handshake_migration: the client talks to
		// whichever address answered its first flight.
		p.addr = from
	}
	rx := rxDatagram{from: from, ecn: ecn, size: len(data)}
	if c.mp == nil && from == p.addr {
		// Bytes from another address count for it only if we move there.
		p.bytesRecv += uint64(len(data))
	}
	c.stats.BytesReceived += uint64(len(data))
	whole := data
	r := receiver{c: c, now: now}
	processed := false
	for len(data) > 0 {
		pkt, rest, h, err := wire.SplitPacket(data, LocalCIDLen)
		if err != nil {
			break
		}
		data = rest
		if r.packet(&rx, pkt, &h) {
			processed = true
		}
		if c.state >= stateDraining {
			return
		}
	}
	if !processed && r.isStatelessReset(whole) {
		c.terminate(ErrStatelessReset)
		return
	}
	r.replayEarlyApp()
	if c.state >= stateDraining {
		return
	}
	if c.nat != nil {
		c.openReachedPaths(now)
	}
	if processed && c.state == stateClosing {
		c.closing.repeat = true
	}
}

// packet processes one packet of a datagram and reports whether it
// was authenticated.
func (r receiver) packet(rx *rxDatagram, pkt []byte, h *wire.Header) bool {
	c, now := r.c, r.now
	switch h.Type {
	case wire.PacketVersionNegotiation:
		r.versionNegotiation(h)
		return false
	case wire.PacketRetry:
		r.retry(pkt, h)
		return false
	case wire.Packet0RTT:
		return false // we never accept early data
	}
	lvl := levelOfPacket(h.Type)
	if h.Version != 0 && h.Version != wire.Version1 {
		return false
	}
	p, candidate := r.pathOf(rx, lvl, h.DCID)
	if p == nil {
		return false
	}
	if lvl == levelApp && !c.app.canRead {
		c.keepEarlyApp(rx, pkt)
		return false
	}
	pn, largest, payload, ok := r.open(p, lvl, pkt, h)
	if !ok {
		return false
	}
	acks := p.rec.Acks(lvl.space())
	if candidate != nil {
		r.acceptPath(p)
	}
	if c.mp != nil && !rx.charged && rx.from == p.addr {
		// As on a single path: bytes from another address count for it
		// only if we move there.
		rx.charged = true
		p.bytesRecv += uint64(rx.size)
	}
	// Reserved bits are checked only after authentication (RFC 9000 §17.2).
	reserved := byte(0x0c)
	if lvl == levelApp {
		reserved = 0x18
	}
	if pkt[0]&reserved != 0 {
		c.closeWithError(&wire.TransportError{Code: wire.ProtocolViolation, Reason: "reserved header bits set"}, now)
		return true
	}
	if acks.IsDuplicate(pn) {
		return true
	}
	if c.side == Client && lvl != levelApp && !c.initial.gotServer {
		c.initial.gotServer = true
		c.paths[0].remote.setInitial(h.SCID)
	}
	if c.side == Server && lvl == levelHandshake {
		// A Handshake packet proves the client owns its address and lets
		// the server drop Initial keys (RFC 9001 §4.9.1).
		c.paths[0].validated = true
		c.dropLevel(levelInitial, now)
	}
	if len(payload) == 0 {
		c.closeWithError(&wire.TransportError{Code: wire.ProtocolViolation, Reason: "packet without frames"}, now)
		return true
	}
	pk := rxPacket{rx: rx, lvl: lvl, typ: h.Type, path: p, dcid: h.DCID}
	ackEliciting, probing, err := r.frames(&pk, payload)
	if err != nil {
		c.closeWithError(err, now)
		return true
	}
	acks.OnPacketReceived(pn, ackEliciting, rx.ecn, now)
	c.stats.PacketsReceived++
	c.live.received(now)
	if p.mp != nil {
		p.mp.lastRecv = now
	}
	if lvl == levelApp && rx.from != p.addr && c.side == Server && pn+1 >= uint64(largest+1) && !probing && c.confirmed {
		// NAT rebinding or a moved client (RFC 9000 §9.3), on a single path
		// or on one of several: either way the new address is unvalidated
		// until it answers a challenge, and gets at most 3× what it sent.
		c.onPeerAddressChange(now, p, rx)
	}
	return true
}

// open removes header protection from pkt, decodes its packet number
// against the largest p received at lvl (-1: none yet) and decrypts the
// payload in place; ok is false when pkt does not authenticate.
func (r receiver) open(p *path, lvl level, pkt []byte, h *wire.Header) (pn uint64, largest int64, payload []byte, ok bool) {
	c, now := r.c, r.now
	var hp *protection.HeaderKey
	if lvl != levelApp {
		if !c.keys[lvl].canRead {
			return 0, 0, nil, false
		}
		hp = c.keys[lvl].read.Header
	} else {
		if !c.app.canRead {
			return 0, 0, nil, false
		}
		hp = c.app.readHP
	}
	pnLen, err := hp.Remove(pkt, h.PNOffset)
	if err != nil {
		return 0, 0, nil, false
	}
	truncated, err := wire.ReadPacketNumber(pkt[h.PNOffset:], pnLen)
	if err != nil {
		return 0, 0, nil, false
	}
	largest = -1
	if l, ok := p.rec.Acks(lvl.space()).LargestReceived(); ok {
		largest = int64(l)
	}
	pn = wire.DecodePacketNumber(largest, truncated, pnLen)
	hdrEnd := h.PNOffset + pnLen
	header, ct := pkt[:hdrEnd], pkt[hdrEnd:h.PacketLen]
	if lvl != levelApp {
		payload, err = c.keys[lvl].read.Packet.Open(ct[:0], header, ct, pn)
	} else {
		var updated bool
		payload, updated, err = c.app.open(p, header, ct, pn, pkt[0]&0x04 != 0, now, c.paths)
		if updated {
			c.stats.KeyUpdates++
		}
	}
	if err != nil {
		return 0, 0, nil, false
	}
	return pn, largest, payload, true
}

// pathOf is the path a packet of level lvl to dcid arrived on, or nil.
// A packet on a path the client opened gets a candidate path, which
// exists once the packet proves authentic; candidate then names its CIDs.
func (r receiver) pathOf(rx *rxDatagram, lvl level, dcid []byte) (p *path, candidate *pathCIDs) {
	c := r.c
	p = c.paths[0]
	if c.mp == nil {
		return p, nil
	}
	if lvl != levelApp {
		if p.id != 0 {
			return nil, nil
		}
		return p, nil
	}
	p, candidate = c.mp.pathForDCID(c.paths, dcid)
	if p != nil {
		return p, nil
	}
	if candidate == nil || c.side == Client {
		return nil, nil
	}
	p = newAppPath(candidate.id, rx.from, c.side, c.cfg.InitialRTT, r.now)
	p.mtu.enabled = !c.cfg.DisablePMTUD
	p.local, p.remote = candidate.local, candidate.remote
	return p, candidate
}

// versionNegotiation ends a client's attempt that the server answered
// with versions we lack.
func (r receiver) versionNegotiation(h *wire.Header) {
	c := r.c
	if c.side != Client || c.initial.gotServer {
		return
	}
	for _, v := range h.Versions(nil) {
		if v == wire.Version1 {
			return // a VN listing our version is bogus (RFC 9000 §6.2)
		}
	}
	c.terminate(ErrVersionNegotiation)
}

// retry restarts the handshake toward the server's new connection ID
// with the token it handed us (RFC 9000 §17.2.5).
func (r receiver) retry(pkt []byte, h *wire.Header) {
	c, now := r.c, r.now
	if c.side != Client || c.initial.gotServer || c.initial.gotRetry || len(h.Token) == 0 {
		return
	}
	if !protection.VerifyRetry(c.initial.origDCID, pkt) {
		return
	}
	c.initial.gotRetry = true
	c.initial.token = append([]byte(nil), h.Token...)
	c.initial.retrySCID = append([]byte(nil), h.SCID...)
	c.paths[0].remote.setInitial(h.SCID)
	c.keys[levelInitial] = initialLevelKeys(Client, h.SCID)
	// Everything sent so far is void; resend the ClientHello. Packet numbers
	// keep increasing across a Retry (RFC 9000 §17.2.5.3).
	old := c.paths[0]
	next := old.rec.NextPacketNumber(recovery.Initial)
	for _, sp := range old.rec.DiscardSpace(recovery.Initial, now) {
		c.records.put(sp.Payload)
	}
	fresh := newPath(old.addr, Client, c.cfg.InitialRTT)
	fresh.mtu = old.mtu
	fresh.local, fresh.remote = old.local, old.remote
	for i := uint64(0); i < next; i++ {
		fresh.rec.SkipPacketNumber(recovery.Initial)
	}
	c.paths[0] = fresh
	cs := &c.crypto[levelInitial].send
	cs.sent, cs.lost, cs.acked = 0, nil, nil
}

// isStatelessReset checks a datagram against the tokens of every path.
func (r receiver) isStatelessReset(d []byte) bool {
	c := r.c
	if c.mp == nil {
		return c.paths[0].remote.isStatelessReset(d)
	}
	for _, s := range c.mp.sets {
		// An abandoned path's CIDs are on their way out: the peer may
		// have forgotten them already and answer a late packet on that
		// path with a reset, which says nothing about the connection.
		if !s.abandoned && s.remote.isStatelessReset(d) {
			return true
		}
	}
	return false
}

func protocolViolation(reason string) error {
	return &wire.TransportError{Code: wire.ProtocolViolation, Reason: reason}
}

func streamErr(err error) error {
	if err == nil {
		return nil
	}
	var se *streams.Error
	if errors.As(err, &se) {
		return &wire.TransportError{Code: wire.TransportErrorCode(se.Code), Reason: se.Reason}
	}
	return &wire.TransportError{Code: wire.InternalError, Reason: err.Error()}
}

// issueCIDs tops the peer up to its active_connection_id_limit.
func (c *Conn) issueCIDs() {
	if c.mp != nil {
		c.mp.issueCIDs(c.params.peer.ActiveConnectionIDLimit, c.rand, c.cids.resetKey, c.emit)
		return
	}
	n := int(min(c.params.peer.ActiveConnectionIDLimit, 8))
	ids, _ := c.paths[0].local.issue(n)
	for _, id := range ids {
		c.emit(Event{Kind: EventNewCID, CID: id})
	}
}
