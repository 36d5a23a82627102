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
	processed := false
	for len(data) > 0 {
		pkt, rest, h, err := wire.SplitPacket(data, LocalCIDLen)
		if err != nil {
			break
		}
		data = rest
		if c.handlePacket(now, &rx, pkt, &h) {
			processed = true
		}
		if c.state >= stateDraining {
			return
		}
	}
	if !processed && c.isStatelessReset(whole) {
		c.terminate(ErrStatelessReset)
		return
	}
	if processed && c.state == stateClosing {
		c.closing.repeat = true
	}
}

// handlePacket processes one packet of a datagram and reports whether it
// was authenticated.
func (c *Conn) handlePacket(now time.Time, rx *rxDatagram, pkt []byte, h *wire.Header) bool {
	switch h.Type {
	case wire.PacketVersionNegotiation:
		c.handleVersionNegotiation(h)
		return false
	case wire.PacketRetry:
		c.handleRetry(now, pkt, h)
		return false
	case wire.Packet0RTT:
		return false // we never accept early data
	}
	lvl := levelOfPacket(h.Type)
	if h.Version != 0 && h.Version != wire.Version1 {
		return false
	}
	p := c.paths[0]
	var candidate *pathCIDs
	if c.mp != nil {
		if lvl != levelApp && p.id != 0 {
			return false
		}
		if lvl == levelApp {
			p, candidate = c.pathForDCID(h.DCID)
			if p == nil {
				if candidate == nil || c.side == Client {
					return false
				}
				// A packet on a path the client opened: the path exists
				// once the packet proves authentic.
				p = c.candidatePath(candidate, rx.from, now)
			}
		}
	}
	var hp *protection.HeaderKey
	if lvl != levelApp {
		if !c.keys[lvl].canRead {
			return false
		}
		hp = c.keys[lvl].read.Header
	} else {
		if !c.app.canRead {
			return false
		}
		hp = c.app.readHP
	}
	pnLen, err := hp.Remove(pkt, h.PNOffset)
	if err != nil {
		return false
	}
	truncated, err := wire.ReadPacketNumber(pkt[h.PNOffset:], pnLen)
	if err != nil {
		return false
	}
	acks := p.rec.Acks(lvl.space())
	largest := int64(-1)
	if l, ok := acks.LargestReceived(); ok {
		largest = int64(l)
	}
	pn := wire.DecodePacketNumber(largest, truncated, pnLen)
	hdrEnd := h.PNOffset + pnLen
	header, ct := pkt[:hdrEnd], pkt[hdrEnd:h.PacketLen]
	var payload []byte
	if lvl != levelApp {
		payload, err = c.keys[lvl].read.Packet.Open(ct[:0], header, ct, pn)
	} else {
		payload, _, err = c.openApp(p, ct[:0], header, ct, pn, pkt[0]&0x04 != 0, now)
	}
	if err != nil {
		return false
	}
	if candidate != nil {
		c.acceptPath(p, now)
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
	ackEliciting, probing, err := c.handleFrames(now, &pk, payload)
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

func (c *Conn) handleVersionNegotiation(h *wire.Header) {
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

// handleRetry restarts the handshake toward the server's new connection ID
// with the token it handed us (RFC 9000 §17.2.5).
func (c *Conn) handleRetry(now time.Time, pkt []byte, h *wire.Header) {
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

// handleFrames processes a packet's frames and reports whether any of them
// was ack-eliciting and whether all were probing frames (RFC 9000 §9.1).
func (c *Conn) handleFrames(now time.Time, pk *rxPacket, payload []byte) (ackEliciting, probing bool, err error) {
	probing = true
	for len(payload) > 0 {
		var f wire.Frame
		n, err := f.Parse(payload)
		if err != nil {
			var te *wire.TransportError
			if errors.As(err, &te) {
				return false, false, err
			}
			return false, false, &wire.TransportError{Code: wire.FrameEncodingError, Reason: err.Error()}
		}
		payload = payload[n:]
		if err := wire.CheckAllowed(f.Type, pk.typ); err != nil {
			return false, false, err
		}
		ackEliciting = ackEliciting || f.Type.IsAckEliciting() // PATH_ACK is an ACK
		probing = probing && f.Type.IsProbing()
		if err := c.handleFrame(now, pk, &f); err != nil {
			var te *wire.TransportError
			if errors.As(err, &te) && te.FrameType == 0 {
				te.FrameType = f.Type
			}
			return false, false, err
		}
		if c.state >= stateDraining {
			break
		}
	}
	return ackEliciting, probing, nil
}

func (c *Conn) handleFrame(now time.Time, pk *rxPacket, f *wire.Frame) error {
	p, from := pk.path, pk.rx.from
	switch f.Type {
	case wire.FramePadding, wire.FramePing:
	case wire.FrameAck, wire.FrameAckECN:
		ap := c.paths[0]
		if c.mp != nil {
			// Under multipath a plain ACK acknowledges path 0.
			if ap = c.paths.byID(0); ap == nil {
				return nil
			}
		}
		return c.handleAck(now, pk.lvl, ap, f)
	case wire.FrameCrypto:
		return c.handleCrypto(now, pk.lvl, f)
	case wire.FrameNewToken:
		if c.side == Server {
			return protocolViolation("NEW_TOKEN sent by a client")
		}
	case wire.FrameStream:
		if err := c.checkIncomingStream(f.StreamID); err != nil {
			return err
		}
		return streamErr(c.streams.HandleStream(streams.StreamID(f.StreamID), f.Offset, f.Data, f.Fin))
	case wire.FrameResetStream:
		if err := c.checkIncomingStream(f.StreamID); err != nil {
			return err
		}
		return streamErr(c.streams.HandleResetStream(streams.StreamID(f.StreamID), f.ErrorCode, f.FinalSize))
	case wire.FrameStopSending:
		return streamErr(c.streams.HandleStopSending(streams.StreamID(f.StreamID), f.ErrorCode))
	case wire.FrameMaxData:
		c.streams.HandleMaxData(f.Limit)
	case wire.FrameMaxStreamData:
		return streamErr(c.streams.HandleMaxStreamData(streams.StreamID(f.StreamID), f.Limit))
	case wire.FrameMaxStreamsBidi:
		return streamErr(c.streams.HandleMaxStreams(streams.Bidi, f.Limit))
	case wire.FrameMaxStreamsUni:
		return streamErr(c.streams.HandleMaxStreams(streams.Uni, f.Limit))
	case wire.FrameDataBlocked:
		c.streams.HandleDataBlocked(f.Limit)
	case wire.FrameStreamDataBlocked:
		if err := c.checkIncomingStream(f.StreamID); err != nil {
			return err
		}
		return streamErr(c.streams.HandleStreamDataBlocked(streams.StreamID(f.StreamID), f.Limit))
	case wire.FrameStreamsBlockedBidi:
		if c.cfg.refusesIncoming(false) {
			return nil // the limit stays 0: no MAX_STREAMS answer
		}
		return streamErr(c.streams.HandleStreamsBlocked(streams.Bidi, f.Limit))
	case wire.FrameStreamsBlockedUni:
		if c.cfg.refusesIncoming(true) {
			return nil
		}
		return streamErr(c.streams.HandleStreamsBlocked(streams.Uni, f.Limit))
	case wire.FrameNewConnectionID:
		remote := c.paths[0].remote
		if c.mp != nil {
			s := c.mp.set(0)
			if s.abandoned {
				return nil
			}
			remote = s.remote
		}
		return c.addRemoteCID(0, remote, f)
	case wire.FrameRetireConnectionID:
		return c.retireLocalCID(now, 0, c.localCIDsOf(0), f.Sequence, pk.dcid)
	case wire.FramePathChallenge:
		if c.nat != nil && c.confirmed && from != p.addr {
			c.offPathChallenge(p, pk.rx, f.PathData)
		} else if c.mp == nil && from != p.addr {
			p.queueOffPathResponse(pk.rx, f.PathData)
		} else if len(p.responses) < 4 {
			p.responses = append(p.responses, f.PathData)
			c.qad.owe(p)
		}
	case wire.FrameObservedAddressIPv4, wire.FrameObservedAddressIPv6:
		return c.handleObservedAddress(p, from, f)
	case wire.FramePathResponse:
		// Without multipath we never challenge (we do not migrate), so
		// unsolicited responses are ignored.
		if c.nat == nil || !c.natPathResponse(now, from, f.PathData) {
			c.onPathResponse(now, f.PathData)
		}
	case wire.FrameConnectionClose, wire.FrameApplicationClose:
		c.handlePeerClose(now, f)
	case wire.FrameHandshakeDone:
		if c.side == Server {
			return protocolViolation("HANDSHAKE_DONE sent by a client")
		}
		c.confirm(now)
	case wire.FrameDatagram:
		if c.cfg.DisableDatagrams || uint64(len(f.Data)) > DefaultDatagramFrame {
			return protocolViolation("unexpected DATAGRAM")
		}
		c.dgrams.received(f.Data)
		c.emit(Event{Kind: EventDatagram})
	case wire.FramePathAck, wire.FramePathAckECN, wire.FramePathAbandon, wire.FramePathStatusBackup,
		wire.FramePathStatusAvailable, wire.FramePathNewConnectionID, wire.FramePathRetireConnectionID,
		wire.FrameMaxPathID, wire.FramePathsBlocked, wire.FramePathCIDsBlocked:
		if c.mp == nil {
			return protocolViolation("frame of an extension that was not negotiated")
		}
		return c.handlePathFrame(now, f)
	case wire.FrameAddAddressIPv4, wire.FrameAddAddressIPv6, wire.FrameReachOutIPv4,
		wire.FrameReachOutIPv6, wire.FrameRemoveAddress:
		return c.handleNatFrame(now, f)
	default:
		// Extension frames (multipath, NAT traversal, ack frequency, address
		// discovery) were not negotiated.
		return protocolViolation("frame of an extension that was not negotiated")
	}
	return nil
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

func (c *Conn) handleCrypto(now time.Time, lvl level, f *wire.Frame) error {
	data, err := c.crypto[lvl].recv.push(f.Offset, f.Data)
	if err != nil {
		return &wire.TransportError{Code: wire.CryptoBufferExceeded, Reason: err.Error()}
	}
	if len(data) == 0 {
		return nil
	}
	if err := c.tls.HandleData(lvl.tls(), data); err != nil {
		return err
	}
	return c.drainTLS(now)
}

// addRemoteCID handles (PATH_)NEW_CONNECTION_ID for one path's set.
func (c *Conn) addRemoteCID(pathID uint64, remote *remoteCIDs, f *wire.Frame) error {
	if err := remote.add(f.Sequence, f.RetirePriorTo, f.ConnID, f.ResetToken); err != nil {
		code := wire.ProtocolViolation
		if errors.Is(err, errCIDLimit) {
			code = wire.ConnectionIDLimitError
		}
		return &wire.TransportError{Code: code, Reason: err.Error()}
	}
	c.cids.tokensChanged = true
	for _, seq := range remote.toRetire {
		if err := c.cids.queueRetire(pathSeq{path: pathID, seq: seq}); err != nil {
			return err
		}
	}
	remote.toRetire = remote.toRetire[:0]
	return nil
}

// retireLocalCID handles (PATH_)RETIRE_CONNECTION_ID for one path's set.
func (c *Conn) retireLocalCID(now time.Time, pathID uint64, local *localCIDs, seq uint64, dcid []byte) error {
	if local == nil {
		return nil
	}
	id, ok, err := local.retire(seq, dcid)
	if err != nil {
		return protocolViolation(err.Error())
	}
	if ok {
		c.emit(Event{Kind: EventRetiredCID, CID: id})
		c.replaceRetired(now)
	}
	return nil
}

func (c *Conn) handleAck(now time.Time, lvl level, p *path, f *wire.Frame) error {
	c.bufs.wireRanges = f.AppendAckRanges(c.bufs.wireRanges[:0])
	c.bufs.recRanges = c.bufs.recRanges[:0]
	for _, r := range c.bufs.wireRanges {
		c.bufs.recRanges = append(c.bufs.recRanges, recovery.AckRange{Smallest: r.Smallest, Largest: r.Largest})
	}
	exp := uint64(3)
	if c.params.havePeer {
		exp = c.params.peer.AckDelayExponent
	}
	delay := time.Duration(f.AckDelay<<exp) * time.Microsecond
	if lvl != levelApp {
		delay = 0 // ack delays of Initial and Handshake ACKs are ignored (RFC 9002 §5.3)
	}
	ack := recovery.AckFrame{Ranges: c.bufs.recRanges, AckDelay: delay}
	if f.Type == wire.FrameAckECN {
		ack.HasECN = true
		ack.ECN = recovery.ECNCounts{ECT0: f.ECT0, ECT1: f.ECT1, CE: f.ECNCE}
	}
	res, err := p.rec.OnAckReceived(lvl.space(), ack, now)
	if err != nil {
		if c.mp != nil && errors.Is(err, recovery.ErrSpaceDiscarded) {
			return nil // a PATH_ACK for a path we already discarded
		}
		return protocolViolation(err.Error())
	}
	if lvl == levelApp {
		for i := range res.Acked {
			p.onAppPacketAcked(&res.Acked[i])
		}
		c.onAppPacketsLost(now, p, res.Lost)
	}
	for _, sp := range res.Acked {
		c.onRecordAcked(sp.Payload, now)
	}
	for _, sp := range res.Lost {
		c.onRecordLost(sp.Payload)
	}
	c.streams.SetRTT(p.rec.RTT().Smoothed())
	return nil
}

// issueCIDs tops the peer up to its active_connection_id_limit.
func (c *Conn) issueCIDs() {
	if c.mp != nil {
		c.issueMultipathCIDs()
		return
	}
	n := int(min(c.params.peer.ActiveConnectionIDLimit, 8))
	ids, _ := c.paths[0].local.issue(n)
	for _, id := range ids {
		c.emit(Event{Kind: EventNewCID, CID: id})
	}
}

// handlePathAck handles PATH_ACK(_ECN) for the path it names.
func (c *Conn) handlePathAck(now time.Time, f *wire.Frame) error {
	c.stats.PathAcksReceived++
	p := c.paths.byID(f.PathID)
	if p == nil {
		return nil
	}
	return c.handleAck(now, levelApp, p, f)
}

// isStatelessReset checks a datagram against the tokens of every path.
func (c *Conn) isStatelessReset(d []byte) bool {
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
