package core

import (
	"bytes"
	"fmt"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

const (
	minInitialDatagram = 1200
	ackDelayExponent   = 3 // we send the RFC default, so it is not advertised
	maxPNLen           = 4
)

// planned is one packet of the datagram being assembled.
type planned struct {
	path         *path
	level        level
	pn           uint64
	pnLen        int
	payload      []byte
	rec          *sentRecord
	ackEliciting bool
	planned      []byte // copy of payload when planned, for Config.CheckPayloads
}

// PollTransmit assembles the next datagram into buf and returns its length
// and destination. n == 0 means there is nothing to send until the next
// event or Timeout. buf should hold at least 1500 bytes.
func (c *Conn) PollTransmit(now time.Time, buf []byte) (n int, to Addr) {
	c.live.lastPoll = now
	switch c.state {
	case stateDraining, stateClosed:
		return 0, Addr{}
	case stateClosing:
		if !c.closing.repeat && !c.closing.sentAt.IsZero() {
			return 0, Addr{}
		}
		c.closing.repeat = false
		c.closing.sentAt = now
		p := c.paths.closing()
		if p == nil {
			return 0, Addr{}
		}
		return c.buildClose(now, p, buf), p.addr
	}
	if c.mp != nil {
		return c.pollPaths(now, buf)
	}
	p := c.paths[0]
	if n := c.pollMTUProbe(now, p, buf); n > 0 {
		return n, p.addr
	}
	if n, to := c.pollOffPath(now, p, buf); n > 0 {
		return n, to
	}
	return c.transmitOn(now, p, true, buf)
}

// transmitOn assembles a datagram for path p. data says p is where
// application data and connection-level frames go; other paths carry only
// what belongs to them (challenges, responses, probes) and ACKs.
func (c *Conn) transmitOn(now time.Time, p *path, data bool, buf []byte) (n int, to Addr) {
	defer c.dropAbandonedRemotes()
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
	if maxSize < 64 {
		return 0, Addr{}
	}
	if p.pacedUntil.After(now) {
		// Only ACK-only packets may go out while pacing holds data back.
		maxSize = min(maxSize, 256)
	}

	var plan [3]planned
	nplan := 0
	remaining := maxSize
	scratch := c.bufs.payload[:0]
	hasInitial, initialEliciting, validatesPath := false, false, false
	for l := levelInitial; l < numLevels; l++ {
		if !c.canWrite(l) || (l != levelApp && p.id != 0) {
			continue
		}
		overhead := c.headerLen(l, p) + maxPNLen + protection.TagLen
		avail := remaining - overhead
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
		plan[nplan] = planned{path: p, level: l, pn: pn, pnLen: pnLen, payload: scratch[start:], rec: rec, ackEliciting: eliciting}
		if c.checkPayload != nil {
			plan[nplan].planned = append([]byte(nil), scratch[start:]...)
		}
		nplan++
		remaining -= c.headerLen(l, p) + pnLen + len(scratch) - start + protection.TagLen
		if l == levelInitial {
			hasInitial = true
			initialEliciting = initialEliciting || eliciting
		}
		validatesPath = validatesPath || rec.validatesPath
	}
	c.bufs.payload = scratch[:0]
	if nplan == 0 {
		return 0, Addr{}
	}
	// Datagrams with Initial packets are padded to 1200 bytes (RFC 9000
	// §14.1), inside the last packet so that no bytes trail the packets.
	last := &plan[nplan-1]
	if (c.side == Client && hasInitial) || initialEliciting {
		if total := maxSize - remaining; total < minInitialDatagram {
			last.payload = appendPadding(last.payload, minInitialDatagram-total)
			last.ackEliciting = last.ackEliciting || last.level == levelInitial
		}
	} else if validatesPath {
		// Path validation needs datagrams of at least 1200 bytes (RFC 9000
		// §8.2.1), as far as the amplification limit allows.
		if total := maxSize - remaining; total < min(minInitialDatagram, maxSize) {
			last.payload = appendPadding(last.payload, min(minInitialDatagram, maxSize)-total)
		}
	}
	out := buf[:0]
	for i := 0; i < nplan; i++ {
		pl := &plan[i]
		start := len(out)
		out = c.sealPacket(out, pl)
		size := len(out) - start
		inFlight := pl.ackEliciting || (i == nplan-1 && len(out) >= minInitialDatagram)
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
	p.bytesSent += uint64(len(out))
	c.stats.BytesSent += uint64(len(out))
	c.live.lastSent = now
	if d := p.rec.PacingDelay(now, len(out)); d > 0 {
		p.pacedUntil = now.Add(d)
	}
	c.maybeInitiateKeyUpdate(now)
	return len(out), p.addr
}

func (c *Conn) canWrite(l level) bool {
	if l != levelApp {
		return c.keys[l].canWrite
	}
	return c.app.canWrite && c.tls.State().Complete
}

// headerLen is the header size before the packet number on path p.
func (c *Conn) headerLen(l level, p *path) int {
	dcid := len(p.remote.active())
	if l == levelApp {
		return 1 + dcid
	}
	n := 1 + 4 + 1 + dcid + 1 + LocalCIDLen + 2
	if l == levelInitial {
		n += wire.VarintLen(uint64(len(c.initial.token))) + len(c.initial.token)
	}
	return n
}

func appendPadding(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, 0)
	}
	return b
}

// checkFrames is the payload check of Config.CheckPayloads: every frame
// must parse back.
func checkFrames(l level, p []byte) {
	for len(p) > 0 {
		var f wire.Frame
		n, err := f.Parse(p)
		if err != nil {
			panic(fmt.Sprintf("core: sealing a malformed %v payload: %v", l, err))
		}
		p = p[n:]
	}
}

// sealPacket writes header and protected payload of pl to out.
func (c *Conn) sealPacket(out []byte, pl *planned) []byte {
	if c.checkPayload != nil {
		if !bytes.HasPrefix(pl.payload, pl.planned) {
			panic(fmt.Sprintf("core: %v payload changed between planning and sealing", pl.level))
		}
		c.checkPayload(pl.level, pl.payload)
	}
	start := len(out)
	p := pl.path
	var err error
	if pl.level == levelApp {
		out, err = wire.AppendShortHeader(out, p.remote.active(), pl.pn, pl.pnLen, c.app.phase, false)
	} else {
		h := wire.Header{
			Type:    pl.level.longType(),
			Version: wire.Version1,
			DCID:    p.remote.active(),
			SCID:    p.local.active[0].id[:],
			Token:   c.initial.token,
		}
		out, err = wire.AppendLongHeader(out, &h, pl.pn, pl.pnLen, pl.pnLen+len(pl.payload)+protection.TagLen)
	}
	if err != nil {
		return out[:start] // cannot happen with our own CIDs; drop the packet
	}
	pnOffset := len(out) - pl.pnLen - start
	header := out[start:]
	var keys *protection.PacketKeys
	var hp *protection.HeaderKey
	if pl.level == levelApp {
		keys, hp = c.app.write, c.app.writeHP
		if pl.rec != nil {
			pl.rec.keyGen = c.app.generation
		}
	} else {
		keys, hp = c.keys[pl.level].write.Packet, c.keys[pl.level].write.Header
	}
	// Path 0's nonce is RFC 9001's; other paths mix their ID in.
	out = keys.SealPath(out, header, pl.payload, uint32(p.id), pl.pn)
	hp.Apply(out[start:], pnOffset)
	return out
}

// hasDataToSend reports whether path p has ack-eliciting frames to send at
// level l; data says p carries the connection's frames.
func (c *Conn) hasDataToSend(l level, p *path, data bool) bool {
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
	return c.handshakeOut || c.live.sendPing || c.cidFramesPending() ||
		len(c.cids.retireOut) > 0 || len(c.dgrams.out) > 0 || c.streams.HasPending() || c.mp.framesPending() || (c.nat != nil && c.nat.framesPending())
}

func (c *Conn) cidFramesPending() bool {
	if c.mp == nil {
		return len(c.paths[0].local.pending) > 0
	}
	for _, s := range c.mp.sets {
		if len(s.local.pending) > 0 {
			return true
		}
	}
	return false
}

// controlFrame converts a stream-layer control frame to its wire form.
func controlFrame(f streams.Frame) wire.Frame {
	switch f.Kind {
	case streams.FrameResetStream:
		return wire.Frame{Type: wire.FrameResetStream, StreamID: uint64(f.ID), ErrorCode: f.Code, FinalSize: f.Value}
	case streams.FrameStopSending:
		return wire.Frame{Type: wire.FrameStopSending, StreamID: uint64(f.ID), ErrorCode: f.Code}
	case streams.FrameMaxData:
		return wire.Frame{Type: wire.FrameMaxData, Limit: f.Value}
	case streams.FrameMaxStreamData:
		return wire.Frame{Type: wire.FrameMaxStreamData, StreamID: uint64(f.ID), Limit: f.Value}
	case streams.FrameMaxStreams:
		t := wire.FrameMaxStreamsBidi
		if f.Dir == streams.Uni {
			t = wire.FrameMaxStreamsUni
		}
		return wire.Frame{Type: t, Limit: f.Value}
	case streams.FrameDataBlocked:
		return wire.Frame{Type: wire.FrameDataBlocked, Limit: f.Value}
	case streams.FrameStreamDataBlocked:
		return wire.Frame{Type: wire.FrameStreamDataBlocked, StreamID: uint64(f.ID), Limit: f.Value}
	case streams.FrameStreamsBlocked:
		t := wire.FrameStreamsBlockedBidi
		if f.Dir == streams.Uni {
			t = wire.FrameStreamsBlockedUni
		}
		return wire.Frame{Type: t, Limit: f.Value}
	}
	return wire.Frame{Type: wire.FramePing}
}
