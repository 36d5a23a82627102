package core

import (
	"errors"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// receiver processes what arrives at now: the packets of a datagram
// (recv.go) and their frames. Datagram and packet are arguments, not
// fields: the receiver is passed by value and they, held by pointer, must
// stay on the caller's stack.
type receiver struct {
	c   *Conn
	now time.Time
}

// frames processes the frames of packet pk and reports whether any of them
// was ack-eliciting and whether all were probing frames (RFC 9000 §9.1).
func (r receiver) frames(pk *rxPacket, payload []byte) (ackEliciting, probing bool, err error) {
	c := r.c
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
		if err := r.frame(pk, &f); err != nil {
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

// frame acts on one frame.
func (r receiver) frame(pk *rxPacket, f *wire.Frame) error {
	c, now := r.c, r.now
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
		return r.ack(pk.lvl, ap, f)
	case wire.FrameCrypto:
		return r.crypto(pk.lvl, f)
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
		return r.newCID(0, remote, f)
	case wire.FrameRetireConnectionID:
		return r.retireCID(0, c.localCIDsOf(0), f.Sequence, pk.dcid)
	case wire.FramePathChallenge:
		if c.nat != nil && c.state == stateEstablished && from != p.addr {
			c.offPathChallenge(r.now, p, pk.rx, f.PathData)
		} else if c.mp == nil && from != p.addr {
			p.queueOffPathResponse(pk.rx, f.PathData)
		} else if len(p.responses) < 4 {
			p.responses = append(p.responses, f.PathData)
			c.qad.owe(p)
			c.notePeerRecheck(p)
		}
	case wire.FrameObservedAddressIPv4, wire.FrameObservedAddressIPv6:
		return c.handleObservedAddress(p, from, f)
	case wire.FramePathResponse:
		// Without multipath we never challenge (we do not migrate), so
		// unsolicited responses are ignored.
		if c.nat == nil || !c.natPathResponse(now, from, f.PathData) {
			r.pathResponse(f.PathData)
		}
	case wire.FrameConnectionClose, wire.FrameApplicationClose:
		r.peerClose(f)
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
		return r.pathFrame(f)
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

// crypto hands CRYPTO data, once in order, to TLS.
func (r receiver) crypto(lvl level, f *wire.Frame) error {
	c, now := r.c, r.now
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
	return tlsEvents{c, now}.drain()
}

// newCID handles (PATH_)NEW_CONNECTION_ID for one path's set.
func (r receiver) newCID(pathID uint64, remote *remoteCIDs, f *wire.Frame) error {
	c := r.c
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

// retireCID handles (PATH_)RETIRE_CONNECTION_ID for one path's set.
func (r receiver) retireCID(pathID uint64, local *localCIDs, seq uint64, dcid []byte) error {
	c, now := r.c, r.now
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

// ack hands an ACK of level lvl for path p to p's recovery and acts on
// what it acknowledged or declared lost.
func (r receiver) ack(lvl level, p *path, f *wire.Frame) error {
	c, now := r.c, r.now
	c.bufs.wireRanges = f.AppendAckRanges(c.bufs.wireRanges[:0])
	c.bufs.recRanges = c.bufs.recRanges[:0]
	for _, rg := range c.bufs.wireRanges {
		c.bufs.recRanges = append(c.bufs.recRanges, recovery.AckRange{Smallest: rg.Smallest, Largest: rg.Largest})
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

// pathAck handles PATH_ACK(_ECN) for the path it names.
func (r receiver) pathAck(f *wire.Frame) error {
	c := r.c
	c.stats.PathAcksReceived++
	p := c.paths.byID(f.PathID)
	if p == nil {
		return nil
	}
	return r.ack(levelApp, p, f)
}

// pathFrame processes the multipath frames.
func (r receiver) pathFrame(f *wire.Frame) error {
	c, now := r.c, r.now
	if c.mp == nil {
		return protocolViolation("multipath frame without multipath")
	}
	m := c.mp
	switch f.Type {
	case wire.FramePathAck, wire.FramePathAckECN:
		return r.pathAck(f)
	case wire.FramePathAbandon:
		p := c.paths.byID(f.PathID)
		if p == nil {
			return nil
		}
		c.abandonPath(now, p, f.ErrorCode, true)
		if !p.mp.draining {
			p.mp.draining = true
			p.mp.drainUntil = now.Add(3 * p.rec.ProbeTimeout())
			// Keep as many concurrent paths available as before (noq).
			if m.raiseLocalMax(m.localMax + 1) {
				c.mp.issueCIDs(c.params.peer.ActiveConnectionIDLimit, c.rand, c.cids.resetKey, c.emit)
			}
		}
	case wire.FramePathStatusAvailable, wire.FramePathStatusBackup:
		p := c.paths.byID(f.PathID)
		if p == nil || (p.mp.haveRemoteStatus && f.Sequence <= p.mp.remoteStatusSeq) {
			return nil
		}
		st := PathAvailable
		if f.Type == wire.FramePathStatusBackup {
			st = PathBackup
		}
		p.mp.remoteStatus, p.mp.remoteStatusSeq, p.mp.haveRemoteStatus = st, f.Sequence, true
		c.emit(Event{Kind: EventPathStatus, Path: PathID(p.id), Status: st})
	case wire.FramePathNewConnectionID:
		if f.PathID > m.localMax {
			return protocolViolation("PATH_NEW_CONNECTION_ID above our maximum path ID")
		}
		s := c.mp.ensureSet(f.PathID, c.rand, c.cids.resetKey)
		if s.abandoned {
			return nil
		}
		return r.newCID(s.id, s.remote, f)
	case wire.FramePathRetireConnectionID:
		s := m.set(f.PathID)
		if s == nil {
			return nil
		}
		return r.retireCID(s.id, s.local, f.Sequence, nil)
	case wire.FrameMaxPathID:
		if f.PathID > m.remoteMax {
			m.remoteMax = f.PathID
			c.mp.issueCIDs(c.params.peer.ActiveConnectionIDLimit, c.rand, c.cids.resetKey, c.emit)
		}
	case wire.FramePathsBlocked:
		if f.PathID > m.localMax {
			return protocolViolation("PATHS_BLOCKED above our maximum path ID")
		}
	case wire.FramePathCIDsBlocked:
		if f.PathID > m.localMax {
			return protocolViolation("PATH_CIDS_BLOCKED above our maximum path ID")
		}
		c.stats.PathCIDsBlocked++
	}
	return nil
}

// acceptPath adds a client-opened path and challenges it.
func (r receiver) acceptPath(p *path) {
	c, now := r.c, r.now
	p.rec.SetPeerMaxAckDelay(time.Duration(c.params.peer.MaxAckDelay) * time.Millisecond)
	p.mp.startChallenge(c.rand, now, p.rec.ProbeTimeout())
	c.paths.insert(p)
	c.mp.noViableAt = time.Time{}
	c.mp.nextOpen = max(c.mp.nextOpen, p.id+1)
	if c.nat != nil && c.nat.server != nil {
		// A client opens paths only once confirmed, and from this
		// address only with our answer in hand.
		c.onPeerConfirmed(now)
		c.nat.prober.dropAnswersTo(p.addr)
	}
	c.emit(Event{Kind: EventPathOpened, Path: PathID(p.id)})
}

// pathResponse validates the path whose challenge data matches.
func (r receiver) pathResponse(data [8]byte) {
	c := r.c
	c.onMigrationResponse(data)
	if c.mp == nil {
		return
	}
	for _, p := range c.paths {
		m := p.mp
		if m.abandoned || m.validateBy.IsZero() || m.challenge != data {
			continue
		}
		m.challengeOut, m.challengeAt, m.validateBy = false, time.Time{}, time.Time{}
		m.provisional = false
		p.validated = true
		if !m.usable {
			m.usable = true
			c.emit(Event{Kind: EventPathValidated, Path: PathID(p.id)})
		}
	}
}

// peerClose enters the draining state (RFC 9000 §10.2.2).
func (r receiver) peerClose(f *wire.Frame) {
	c, now := r.c, r.now
	if c.state >= stateDraining {
		return
	}
	ce := &CloseError{Remote: true, Code: f.ErrorCode, Reason: string(f.Reason),
		Application: f.Type == wire.FrameApplicationClose, FrameType: uint64(f.ClosingFrameType)}
	wasClosing := c.state == stateClosing
	c.state = stateDraining
	if !wasClosing {
		c.err = ce
		c.closing.deadline = now.Add(3 * c.paths.primary().rec.ProbeTimeout())
		c.emit(Event{Kind: EventClosed, Err: ce})
	}
}
