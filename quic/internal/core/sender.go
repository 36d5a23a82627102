package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// sender assembles the datagram of one PollTransmit into buf at now: it
// picks the path, has a packetBuilder fill a packet per level and seals
// them.
type sender struct {
	c   *Conn
	now time.Time
	buf []byte
}

// poll picks the path of the next datagram under multipath: first any
// path with something of its own to send (a challenge, a response, a
// probe, a keep-alive), as a peer validating a path waits on it, then
// NAT traversal's probes and answers, MTU probes, and the data path with
// everything else; but while a client has yet to confirm, the data path
// goes first (see dataPathFirst).
func (s sender) poll() (int, Addr) {
	c, now, buf := s.c, s.now, s.buf
	dp := c.paths.data()
	if dp != nil && c.dataPathFirst() {
		if n, to := s.on(dp, true); n > 0 {
			return n, to
		}
	}
	for _, p := range c.paths {
		if p == dp || !s.pathWants(p) {
			continue
		}
		if n, to := s.on(p, false); n > 0 {
			return n, to
		}
	}
	if c.nat != nil {
		if n, to := c.pollNat(now, buf); n > 0 {
			return n, to
		}
	}
	for _, p := range c.paths {
		if n := c.pollMTUProbe(now, p, buf); n > 0 {
			return n, p.addr
		}
	}
	if dp == nil {
		dp = c.paths.fallback()
	}
	if dp == nil {
		return 0, Addr{}
	}
	if n, to := s.on(dp, true); n > 0 {
		return n, to
	}
	return s.dueAcks(dp)
}

// dueAcks sends due PATH_ACKs on another validated path when the data
// path could not carry them (say, it is migrating and at its
// amplification limit): otherwise the ACK deadline stays in the past and
// the driver spins on it.
func (s sender) dueAcks(dp *path) (int, Addr) {
	c, now := s.c, s.now
	due := false
	for _, p := range c.paths {
		due = due || p.rec.Acks(recovery.AppData).ShouldSendAck(now)
	}
	if !due {
		return 0, Addr{}
	}
	for _, p := range c.paths {
		if p == dp || p.mp.abandoned || !p.mp.usable || !p.remote.usable() {
			continue
		}
		if n, to := s.on(p, false); n > 0 {
			return n, to
		}
	}
	return 0, Addr{}
}

// pathWants reports whether p has frames that must go on p itself.
func (s sender) pathWants(p *path) bool {
	c, now := s.c, s.now
	m := p.mp
	if m.abandoned || !p.remote.usable() {
		return false
	}
	migrating := p.mig != nil && p.mig.challengeOut // the peer moved on this path: validate it here
	// A validated path acknowledges its own packets: if the ACKs went on
	// the data path and that one silently died, the peer would never
	// learn what arrived here (nor that its PATH_ABANDON for the dead
	// path was lost).
	ownAck := m.usable && p.rec.Acks(recovery.AppData).ShouldSendAck(now)
	return m.challengeOut || migrating || ownAck || m.ping || len(p.responses) > 0 || p.rec.ProbesPending(recovery.AppData) > 0 || c.observedPending(p)
}

// on assembles a datagram for path p. data says p is where
// application data and connection-level frames go; other paths carry only
// what belongs to them (challenges, responses, probes) and ACKs.
func (s sender) on(p *path, data bool) (n int, to Addr) {
	c, now := s.c, s.now
	defer func() {
		if c.mp.dropAbandonedRemotes() {
			c.cids.tokensChanged = true
		}
	}()
	size := s.room(p)
	if size == 0 {
		return 0, Addr{}
	}
	var dp datagramPlan
	s.plan(&dp, p, data, size)
	if dp.n == 0 {
		return 0, Addr{}
	}
	dp.pad(c.side)
	out := s.seal(&dp, p)
	p.bytesSent += uint64(len(out))
	c.stats.BytesSent += uint64(len(out))
	c.live.lastSent = now
	if d := p.rec.PacingDelay(now, len(out)); d > 0 {
		p.pacedUntil = now.Add(d)
	}
	s.maybeUpdateKeys()
	return len(out), p.addr
}

// datagramPlan is the packets of one datagram, filled but not sealed.
type datagramPlan struct {
	pkts      [3]planned
	n         int
	size      int // what the datagram may take
	remaining int // of size, still free
	// What decides the padding.
	hasInitial, initialEliciting, validatesPath bool
}

// room is how large a datagram on p may be now, or 0 when too little is
// allowed to be worth building.
func (s sender) room(p *path) int {
	now, buf := s.now, s.buf
	maxSize := min(len(buf), p.rec.MaxDatagramSize())
	if budget := p.amplificationBudget(); budget < maxSize {
		maxSize = budget
	}
	if maxSize > MinMTU && p.rec.ProbesPending(recovery.AppData) > 0 {
		// PTO probes stay at the minimum MTU: if the path MTU shrank they
		// still get through, and their ACKs reveal the lost large packets
		// to the black-hole detector.
		maxSize = MinMTU
	}
	p.rec.SetAmplificationBlocked(maxSize < minInitialDatagram && !p.validated, now)
	if maxSize < minSendable {
		return 0
	}
	if p.pacedUntil.After(now) {
		// Only ACK-only packets may go out while pacing holds data back.
		maxSize = min(maxSize, 256)
	}
	return maxSize
}

// plan fills a packet per level that has something to send, within size
// bytes, into dp.
func (s sender) plan(dp *datagramPlan, p *path, data bool, size int) {
	c, now := s.c, s.now
	dp.size, dp.remaining = size, size
	scratch := c.bufs.payload[:0]
	for l := levelInitial; l < numLevels; l++ {
		if !c.canWrite(l) || (l != levelApp && p.id != 0) {
			continue
		}
		if l == levelInitial && c.side == Server && !p.validated && size < minInitialDatagram {
			// A server's ack-eliciting Initial must fill 1200 bytes;
			// with less budget only the other levels go, until the
			// client's next datagram raises it.
			continue
		}
		overhead := c.headerLen(l, p) + maxPNLen + protection.TagLen
		avail := dp.remaining - overhead
		if l == levelApp && !c.tls.State().Complete {
			// 0.5-RTT data (a server's candidates and CIDs) leaves room
			// in the amplification budget for a full datagram that
			// resends the handshake flight, which must be padded to 1200.
			if reserve := p.amplificationBudget() - (dp.size - dp.remaining) - minInitialDatagram; reserve < dp.remaining {
				avail = reserve - overhead
			}
		}
		if avail < 8 {
			break
		}
		start := len(scratch)
		rec := c.records.get(l)
		pb := &c.bufs.builder
		*pb = packetBuilder{c: c, now: now, l: l, p: p, data: data, b: scratch, start: start, avail: avail, rec: rec}
		eliciting := pb.fill(p.pacedUntil.After(now))
		scratch = pb.b
		*pb = packetBuilder{}
		if len(scratch) == start {
			c.records.put(rec)
			continue
		}
		pn := p.rec.NextPacketNumber(l.space())
		largestAcked := int64(-1)
		if la, ok := p.rec.LargestAcked(l.space()); ok {
			largestAcked = int64(la)
		}
		pnLen := wire.PacketNumberLen(pn, largestAcked)
		// Header protection samples 16 bytes from 4 after the packet
		// number; pad now, while this payload is still the last in scratch.
		if short := 4 - pnLen - (len(scratch) - start); short > 0 {
			scratch = appendPadding(scratch, short)
		}
		dp.pkts[dp.n] = planned{path: p, level: l, pn: pn, pnLen: pnLen, payload: scratch[start:], rec: rec, ackEliciting: eliciting}
		if c.checkPayload != nil {
			dp.pkts[dp.n].planned = append([]byte(nil), scratch[start:]...)
		}
		dp.n++
		dp.remaining -= c.headerLen(l, p) + pnLen + len(scratch) - start + protection.TagLen
		if l == levelInitial {
			dp.hasInitial = true
			dp.initialEliciting = dp.initialEliciting || eliciting
		}
		dp.validatesPath = dp.validatesPath || rec.validatesPath
	}
	c.bufs.payload = scratch[:0]
}

// pad grows the last packet where the datagram must reach 1200 bytes.
func (dp *datagramPlan) pad(side Side) {
	// Datagrams with Initial packets are padded to 1200 bytes (RFC 9000
	// §14.1), inside the last packet so that no bytes trail the packets.
	last := &dp.pkts[dp.n-1]
	total := dp.size - dp.remaining
	if (side == Client && dp.hasInitial) || dp.initialEliciting {
		if total < minInitialDatagram {
			last.payload = appendPadding(last.payload, minInitialDatagram-total)
			last.ackEliciting = last.ackEliciting || last.level == levelInitial
		}
	} else if dp.validatesPath {
		// Path validation needs datagrams of at least 1200 bytes (RFC 9000
		// §8.2.1), as far as the amplification limit allows.
		if want := min(minInitialDatagram, dp.size); total < want {
			last.payload = appendPadding(last.payload, want-total)
		}
	}
}

// seal writes dp's packets into the sender's buffer and records each as
// sent on p.
func (s sender) seal(dp *datagramPlan, p *path) []byte {
	c, now := s.c, s.now
	out := s.buf[:0]
	for i := 0; i < dp.n; i++ {
		pl := &dp.pkts[i]
		start := len(out)
		out = c.sealPacket(out, pl)
		size := len(out) - start
		inFlight := pl.ackEliciting || (i == dp.n-1 && len(out) >= minInitialDatagram)
		p.rec.OnPacketSent(pl.level.space(), recovery.SentPacket[*sentRecord]{
			Number: pl.pn, TimeSent: now, Size: size,
			AckEliciting: pl.ackEliciting, InFlight: inFlight, Payload: pl.rec,
		})
		c.stats.PacketsSent++
		if pl.level == levelHandshake && c.side == Client {
			// A client's first Handshake packet retires its Initial keys.
			c.dropLevel(levelInitial, now)
		}
		if pl.level == levelApp {
			c.app.sentInPhase++
			if pl.ackEliciting && p.mp != nil {
				p.mp.lastEliciting = now
			}
		}
		if pl.ackEliciting {
			c.live.sentEliciting(now)
		}
	}
	return out
}

// close writes CONNECTION_CLOSE at every level the peer may be able to
// read, so a peer that has not finished the handshake still learns of it.
func (s sender) close(p *path) int {
	c, buf := s.c, s.buf
	out := buf[:0]
	for l := levelInitial; l < numLevels; l++ {
		if !c.canWrite(l) || (l != levelApp && p.id != 0) {
			continue
		}
		if l != levelApp && c.confirmed {
			continue
		}
		f := c.closing.frame
		if l != levelApp && f.Type == wire.FrameApplicationClose {
			f = closeFrameOf(&CloseError{Application: true}, false)
		}
		payload, _ := f.Append(nil)
		pn := p.rec.NextPacketNumber(l.space())
		pl := planned{path: p, level: l, pn: pn, pnLen: 4, payload: payload}
		if len(out)+c.headerLen(l, p)+4+len(payload)+16 > len(buf) {
			break
		}
		out = c.sealPacket(out, &pl)
		_ = p.rec.SkipPacketNumber(l.space()) // consume pn; close packets are not tracked
	}
	return len(out)
}

// maybeUpdateKeys starts a key update once enough packets went out in
// this phase and the peer has acknowledged one of them (RFC 9001 §6.1).
func (s sender) maybeUpdateKeys() {
	c, now := s.c, s.now
	a := &c.app
	if !c.confirmed || !a.canWrite || !a.phaseAcked || (a.sentInPhase < c.cfg.KeyUpdateInterval && !a.forceUpdate) {
		return
	}
	if c.mp != nil && now.Before(a.phaseAckedAt.Add(3*c.paths.maxPTO())) {
		// RFC 9001 §6.5: wait three PTOs after the previous update was
		// acknowledged, so the peer has dropped its old keys. noq needs it
		// under multipath: it picks old or new keys by comparing packet
		// numbers of different paths while it holds the old ones.
		return
	}
	if err := c.app.rotate(now, c.paths, false); err != nil {
		c.closeWithError(err, now)
		return
	}
	c.stats.KeyUpdates++
	c.stats.KeyUpdatesInitiated++
}

// dataPathFirst: the server owes or has sent HANDSHAKE_DONE and the client
// has not confirmed. A client drops packets from a new address until it
// confirms (noq does), so what the data path carries, HANDSHAKE_DONE
// above all, leaves before any probe or answer: that path is often the
// relay, the slower way, and an off-path send can cost the sender its
// CPU for a while on a shared host, as the kernel hands the datagram to
// the peer's process.
func (c *Conn) dataPathFirst() bool {
	if c.side != Server {
		return false
	}
	return c.handshakeOut || (c.nat != nil && c.nat.server != nil && !c.nat.server.peerConfirmed)
}
