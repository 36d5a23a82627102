package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// packetBuilder fills the payload of one packet: the frames of level l
// for path p, in at most avail bytes after start, noting in rec what the
// packet carries so that its loss or acknowledgement can be acted on.
type packetBuilder struct {
	c     *Conn
	now   time.Time
	l     level
	p     *path
	data  bool // p carries the connection's frames
	b     []byte
	start int
	avail int
	rec   *sentRecord
}

// left is the room still free in the packet.
func (pb *packetBuilder) left() int { return pb.avail - (len(pb.b) - pb.start) }

// add appends f if it fits.
func (pb *packetBuilder) add(f *wire.Frame) bool {
	n := f.Len()
	if n < 0 || n > pb.left() {
		return false
	}
	pb.b, _ = f.Append(pb.b)
	return true
}

// fill adds every frame due at the builder's level and reports whether
// any is ack-eliciting. ackOnly restricts the packet to acknowledgements
// (pacing or congestion hold data back).
func (pb *packetBuilder) fill(ackOnly bool) bool {
	c, l, p, data, now := pb.c, pb.l, pb.p, pb.data, pb.now
	space := l.space()
	eliciting := false
	acks := p.rec.Acks(space)
	probes := p.rec.ProbesPending(space)
	canSend := !ackOnly && (p.rec.CanSend(space) || probes > 0)
	wantData := canSend && pb.hasData()
	if l == levelApp && c.mp != nil {
		pb.appendPathAcks(wantData)
	} else if acks.HasRanges() && (acks.ShouldSendAck(now) || acks.Pending() && wantData) {
		if largest, ok := pb.appendAck(wire.FrameAck, 0, acks); ok {
			pb.rec.ackLargest = int64(largest)
		}
	}
	if !canSend {
		// A migration's PATH_CHALLENGE does not wait for the window: the
		// packets filling it went to the old, maybe dead, address, and the
		// validation deadline passes before a backed-off PTO frees it.
		return !ackOnly && l == levelApp && p.appendMigrationChallenge(now, pb.add, pb.rec)
	}
	if l == levelApp {
		if data && c.handshakeOut && pb.add(&wire.Frame{Type: wire.FrameHandshakeDone}) {
			c.handshakeOut, pb.rec.handshakeDone, eliciting = false, true, true
		}
		if c.mp != nil {
			eliciting = pb.fillPathFrames() || eliciting
		}
		if p.appendMigrationChallenge(now, pb.add, pb.rec) {
			eliciting = true
		}
		for len(p.responses) > 0 && pb.add(&wire.Frame{Type: wire.FramePathResponse, PathData: p.responses[0]}) {
			p.responses = p.responses[1:]
			eliciting = true
			pb.rec.validatesPath = pb.rec.validatesPath || c.mp != nil
		}
		if c.appendObservedAddress(p, pb.add, pb.rec) {
			eliciting = true
		}
	}
	if pb.appendCrypto() {
		eliciting = true
	}
	if l == levelApp && data {
		eliciting = pb.fillAppFrames() || eliciting
	}
	pathPing := l == levelApp && p.mp != nil && p.mp.ping
	if !eliciting && (probes > 0 || (l == levelApp && data && c.live.sendPing) || pathPing) && pb.add(&wire.Frame{Type: wire.FramePing}) {
		eliciting = true
	}
	if l == levelApp && eliciting {
		if data {
			c.live.sendPing = false
		}
		if p.mp != nil {
			p.mp.ping = false
		}
	}
	return eliciting
}

// appendCrypto adds the level's pending CRYPTO data.
func (pb *packetBuilder) appendCrypto() bool {
	if pb.l == levelApp && !pb.data {
		return false
	}
	cs := &pb.c.crypto[pb.l].send
	added := false
	for cs.hasData() {
		off := cs.peekOffset()
		max := wire.MaxCryptoDataLen(off, pb.left())
		if max <= 0 {
			break
		}
		off, data := cs.next(max)
		if !pb.add(&wire.Frame{Type: wire.FrameCrypto, Offset: off, Data: data}) {
			cs.onLost(off, uint64(len(data)))
			break
		}
		pb.rec.crypto = append(pb.rec.crypto, cryptoRange{off, uint64(len(data))})
		added = true
	}
	return added
}

// appendAck adds an ACK (typ FrameAck) or PATH_ACK (FramePathAck) of
// acks, switching to the ECN variant when there are counts to report,
// and returns the largest packet number it acknowledges.
func (pb *packetBuilder) appendAck(typ wire.FrameType, pathID uint64, acks *recovery.AckTracker) (uint64, bool) {
	bufs := &pb.c.bufs
	bufs.recRanges = acks.AppendRanges(bufs.recRanges[:0])
	bufs.wireRanges = bufs.wireRanges[:0]
	for _, r := range bufs.recRanges {
		bufs.wireRanges = append(bufs.wireRanges, wire.AckRange{Smallest: r.Smallest, Largest: r.Largest})
	}
	f := wire.Frame{Type: typ, PathID: pathID, AckRanges: bufs.wireRanges}
	if pb.l == levelApp {
		f.AckDelay = uint64(acks.AckDelay(pb.now)/time.Microsecond) >> ackDelayExponent
	}
	if ecn := acks.ECNCounts(); ecn != (recovery.ECNCounts{}) {
		f.Type, f.ECT0, f.ECT1, f.ECNCE = typ+1, ecn.ECT0, ecn.ECT1, ecn.CE // ACK_ECN / PATH_ACK_ECN
	}
	// Drop the oldest ranges until the frame fits.
	avail := pb.left()
	for f.Len() > avail && len(f.AckRanges) > 1 {
		f.AckRanges = f.AckRanges[:len(f.AckRanges)-1]
	}
	if f.Len() < 0 || f.Len() > avail {
		return 0, false
	}
	pb.b, _ = f.Append(pb.b)
	return acks.OnAckSent(), true
}

// appendPathAcks adds a PATH_ACK for every path whose acknowledgement is
// due; ACKs of any path may travel on any path.
func (pb *packetBuilder) appendPathAcks(wantData bool) {
	for _, q := range pb.c.paths {
		acks := q.rec.Acks(recovery.AppData)
		if !acks.HasRanges() {
			continue
		}
		due := acks.ShouldSendAck(pb.now) || (acks.Pending() && (q == pb.p && wantData || q.mp.abandoned))
		if !due {
			continue
		}
		largest, ok := pb.appendAck(wire.FramePathAck, q.id, acks)
		if !ok {
			return
		}
		r := recMP(pb.rec)
		r.acks = append(r.acks, pathSeq{path: q.id, seq: largest})
		pb.c.stats.PathAcksSent++
	}
}

func recMP(rec *sentRecord) *recordMP {
	if rec.mp == nil {
		rec.mp = new(recordMP)
	}
	return rec.mp
}

// fillAppFrames adds the 1-RTT-only frames: connection IDs, flow control,
// datagrams and stream data. Each is ack-eliciting, so it reports whether
// it added any.
func (pb *packetBuilder) fillAppFrames() bool {
	c, p := pb.c, pb.p
	before := len(pb.b)
	if c.mp == nil {
		pb.appendNewCIDs(0, c.paths[0].local)
	} else {
		for _, s := range c.mp.sets {
			if !pb.appendNewCIDs(s.id, s.local) {
				break
			}
		}
	}
	for len(c.cids.retireOut) > 0 {
		r := c.cids.retireOut[0]
		f := wire.Frame{Type: wire.FrameRetireConnectionID, Sequence: r.seq}
		if c.mp != nil {
			f.Type, f.PathID = wire.FramePathRetireConnectionID, r.path
		}
		if !pb.add(&f) {
			break
		}
		pb.rec.retireCIDs = append(pb.rec.retireCIDs, r)
		c.cids.retireOut = c.cids.retireOut[1:]
	}
	for {
		sf, ok := c.streams.NextControl(pb.now, pb.left())
		if !ok {
			break
		}
		wf := controlFrame(sf)
		if !pb.add(&wf) {
			c.streams.OnLost(sf) // cannot happen: NextControl honours the size
			break
		}
		pb.rec.streams = append(pb.rec.streams, sf)
	}
	if p.mp != nil && !p.mp.usable {
		return len(pb.b) > before // no application data on a path not yet validated
	}
	for len(c.dgrams.out) > 0 {
		d := c.dgrams.out[0]
		f := wire.Frame{Type: wire.FrameDatagram, Data: d}
		if f.Len() > pb.left() {
			break
		}
		pb.add(&f)
		c.dgrams.out = c.dgrams.out[1:]
	}
	for pb.left() > 8 {
		sf, data, ok := c.streams.NextStreamFrame(pb.left())
		if !ok {
			break
		}
		f := wire.Frame{Type: wire.FrameStream, StreamID: uint64(sf.ID), Offset: sf.Offset, Data: data, Fin: sf.Fin}
		if !pb.add(&f) {
			c.streams.OnLost(sf)
			break
		}
		pb.rec.streams = append(pb.rec.streams, sf)
	}
	p.rec.SetAppLimited(!c.streams.HasPending())
	return len(pb.b) > before
}

// appendNewCIDs adds the pending (PATH_)NEW_CONNECTION_ID frames of one
// path's set; it reports false when the packet is full.
func (pb *packetBuilder) appendNewCIDs(pathID uint64, l *localCIDs) bool {
	for len(l.pending) > 0 {
		seq := l.pending[0]
		if id, ok := l.lookup(seq); ok {
			f := wire.Frame{Type: wire.FrameNewConnectionID, Sequence: seq, ConnID: id.id[:], ResetToken: id.token}
			if pb.c.mp != nil {
				f.Type, f.PathID = wire.FramePathNewConnectionID, pathID
			}
			if !pb.add(&f) {
				return false
			}
			pb.rec.newCIDs = append(pb.rec.newCIDs, pathSeq{path: pathID, seq: seq})
		}
		l.pending = l.pending[1:]
	}
	return true
}

// fillPathFrames adds the multipath frames: p's own PATH_CHALLENGE and
// PATH_STATUS, and on the data path the connection-level ones. Each is
// ack-eliciting, so it reports whether it added any.
func (pb *packetBuilder) fillPathFrames() bool {
	c, p, now := pb.c, pb.p, pb.now
	before := len(pb.b)
	m := c.mp
	if p.mp.challengeOut {
		c.qad.owe(p) // noq reports with every challenge
	}
	if p.mp.challengeOut && pb.add(&wire.Frame{Type: wire.FramePathChallenge, PathData: p.mp.challenge}) {
		p.mp.challengeOut = false
		p.mp.challengeAt = now.Add(p.rec.ProbeTimeout())
		pb.rec.validatesPath = true
	}
	kept := m.statusOut[:0]
	for i, id := range m.statusOut {
		q := c.paths.byID(id)
		if q == nil || q.mp.abandoned {
			continue
		}
		if !pb.data && id != p.id {
			kept = append(kept, id)
			continue
		}
		typ := wire.FramePathStatusAvailable
		if q.mp.status == PathBackup {
			typ = wire.FramePathStatusBackup
		}
		if !pb.add(&wire.Frame{Type: typ, PathID: id, Sequence: q.mp.statusSeq}) {
			kept = append(kept, m.statusOut[i:]...)
			break
		}
		r := recMP(pb.rec)
		r.status = append(r.status, id)
	}
	m.statusOut = kept
	if !pb.data {
		return len(pb.b) > before
	}
	for len(m.abandonsOut) > 0 {
		a := m.abandonsOut[0]
		if !pb.add(&wire.Frame{Type: wire.FramePathAbandon, PathID: a.path, ErrorCode: a.code}) {
			break
		}
		m.abandonsOut = m.abandonsOut[1:]
		r := recMP(pb.rec)
		r.abandons = append(r.abandons, a)
		m.onAbandonSent(now, a.path, c.paths.byID(a.path))
	}
	if m.maxPathIDOut && pb.add(&wire.Frame{Type: wire.FrameMaxPathID, PathID: m.localMax}) {
		m.maxPathIDOut = false
		recMP(pb.rec).maxPath = true
	}
	if m.pathsBlockedOut && pb.add(&wire.Frame{Type: wire.FramePathsBlocked, PathID: m.remoteMax}) {
		m.pathsBlockedOut = false
	}
	if c.nat != nil {
		c.nat.appendFrames(pb.add, pb.rec)
	}
	for len(m.cidsBlockedOut) > 0 {
		cb := m.cidsBlockedOut[0]
		if !pb.add(&wire.Frame{Type: wire.FramePathCIDsBlocked, PathID: cb.path, Sequence: cb.seq}) {
			break
		}
		m.cidsBlockedOut = m.cidsBlockedOut[1:]
	}
	return len(pb.b) > before
}

// hasData reports whether the builder's path has ack-eliciting frames to
// send at its level.
func (pb *packetBuilder) hasData() bool {
	c, l, p, data := pb.c, pb.l, pb.p, pb.data
	if (l != levelApp || data) && c.crypto[l].send.hasData() {
		return true
	}
	if l != levelApp {
		return false
	}
	if len(p.responses) > 0 || (p.mp != nil && (p.mp.ping || p.mp.challengeOut)) || (p.mig != nil && p.mig.challengeOut) || c.observedPending(p) {
		return true
	}
	if !data {
		return false
	}
	return c.handshakeOut || c.live.sendPing || c.mp.cidFramesPending(c.paths[0].local) ||
		len(c.cids.retireOut) > 0 || len(c.dgrams.out) > 0 || c.streams.HasPending() || c.mp.framesPending() || (c.nat != nil && c.nat.framesPending())
}
