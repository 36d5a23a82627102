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
	level        int
	pn           uint64
	pnLen        int
	payload      []byte
	rec          *sentRecord
	ackEliciting bool
	planned      []byte // copy of payload when planned, for EnablePayloadChecks
}

// PollTransmit assembles the next datagram into buf and returns its length
// and destination. n == 0 means there is nothing to send until the next
// event or Timeout. buf should hold at least 1500 bytes.
func (c *Conn) PollTransmit(now time.Time, buf []byte) (n int, to Addr) {
	p := c.paths[0]
	c.lastPoll = now
	switch c.state {
	case stateDraining, stateClosed:
		return 0, Addr{}
	case stateClosing:
		if !c.closeRepeat && !c.closeSentAt.IsZero() {
			return 0, Addr{}
		}
		c.closeRepeat = false
		c.closeSentAt = now
		return c.buildClose(now, buf), p.addr
	}
	maxSize := min(len(buf), p.rec.MaxDatagramSize())
	if budget := p.amplificationBudget(); budget < maxSize {
		maxSize = budget
	}
	p.rec.SetAmplificationBlocked(maxSize < minInitialDatagram && !p.validated, now)
	if maxSize < 64 {
		return 0, Addr{}
	}
	if c.pacedUntil.After(now) {
		// Only ACK-only packets may go out while pacing holds data back.
		maxSize = min(maxSize, 256)
	}

	var plan [3]planned
	nplan := 0
	remaining := maxSize
	scratch := c.scratch[:0]
	hasInitial, initialEliciting := false, false
	for level := 0; level < 3; level++ {
		if !c.canWrite(level) {
			continue
		}
		overhead := c.headerLen(level) + maxPNLen + protection.TagLen
		avail := remaining - overhead
		if avail < 8 {
			break
		}
		start := len(scratch)
		rec := c.newRecord(level)
		var eliciting bool
		scratch, eliciting = c.fillFrames(now, level, scratch, avail, rec, c.pacedUntil.After(now))
		if len(scratch) == start {
			c.freeRecord(rec)
			continue
		}
		pn := p.rec.NextPacketNumber(spaceOf[level])
		largestAcked := int64(-1)
		if la, ok := p.rec.LargestAcked(spaceOf[level]); ok {
			largestAcked = int64(la)
		}
		pnLen := wire.PacketNumberLen(pn, largestAcked)
		// Header protection samples 16 bytes from 4 after the packet
		// number; pad now, while this payload is still the last in scratch.
		if short := 4 - pnLen - (len(scratch) - start); short > 0 {
			scratch = appendPadding(scratch, short)
		}
		plan[nplan] = planned{level: level, pn: pn, pnLen: pnLen, payload: scratch[start:], rec: rec, ackEliciting: eliciting}
		if verifyPayload != nil {
			plan[nplan].planned = append([]byte(nil), scratch[start:]...)
		}
		nplan++
		remaining -= c.headerLen(level) + pnLen + len(scratch) - start + protection.TagLen
		if level == 0 {
			hasInitial = true
			initialEliciting = initialEliciting || eliciting
		}
	}
	c.scratch = scratch[:0]
	if nplan == 0 {
		return 0, Addr{}
	}
	// Datagrams with Initial packets are padded to 1200 bytes (RFC 9000
	// §14.1), inside the last packet so that no bytes trail the packets.
	last := &plan[nplan-1]
	if (c.side == Client && hasInitial) || initialEliciting {
		if total := maxSize - remaining; total < minInitialDatagram {
			last.payload = appendPadding(last.payload, minInitialDatagram-total)
			last.ackEliciting = last.ackEliciting || last.level == 0
		}
	}
	out := buf[:0]
	for i := 0; i < nplan; i++ {
		pl := &plan[i]
		start := len(out)
		out = c.sealPacket(out, pl)
		size := len(out) - start
		inFlight := pl.ackEliciting || (i == nplan-1 && len(out) >= minInitialDatagram)
		p.rec.OnPacketSent(spaceOf[pl.level], recovery.SentPacket[*sentRecord]{
			Number: pl.pn, TimeSent: now, Size: size,
			AckEliciting: pl.ackEliciting, InFlight: inFlight, Payload: pl.rec,
		})
		c.stats.PacketsSent++
		if pl.level == 1 && c.side == Client {
			// A client's first Handshake packet retires its Initial keys.
			c.dropLevel(0, now)
		}
		if pl.level == 2 {
			c.app.sentInPhase++
		}
		if pl.ackEliciting && !c.sentSinceRecv {
			c.sentSinceRecv = true
			c.lastActivity = now
		}
	}
	p.bytesSent += uint64(len(out))
	c.stats.BytesSent += uint64(len(out))
	c.lastSent = now
	if d := p.rec.PacingDelay(now, len(out)); d > 0 {
		c.pacedUntil = now.Add(d)
	}
	c.maybeInitiateKeyUpdate(now)
	return len(out), p.addr
}

func (c *Conn) canWrite(level int) bool {
	if level < 2 {
		return c.keys[level].canWrite
	}
	return c.app.canWrite && c.tls.State().Complete
}

// headerLen is the header size before the packet number.
func (c *Conn) headerLen(level int) int {
	dcid := len(c.paths[0].remote.active())
	if level == 2 {
		return 1 + dcid
	}
	n := 1 + 4 + 1 + dcid + 1 + LocalCIDLen + 2
	if level == 0 {
		n += wire.VarintLen(uint64(len(c.token))) + len(c.token)
	}
	return n
}

func appendPadding(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, 0)
	}
	return b
}

// verifyPayload, when set by tests (EnablePayloadChecks), checks every
// payload before sealing.
var verifyPayload func(level int, payload []byte)

// EnablePayloadChecks makes every packet's frames be re-parsed before
// sealing, panicking on a malformed payload. Tests only: it costs a parse.
func EnablePayloadChecks() {
	verifyPayload = func(level int, p []byte) {
		for len(p) > 0 {
			var f wire.Frame
			n, err := f.Parse(p)
			if err != nil {
				panic(fmt.Sprintf("core: sealing a malformed level-%d payload: %v", level, err))
			}
			p = p[n:]
		}
	}
}

// sealPacket writes header and protected payload of pl to out.
func (c *Conn) sealPacket(out []byte, pl *planned) []byte {
	if verifyPayload != nil {
		if !bytes.HasPrefix(pl.payload, pl.planned) {
			panic(fmt.Sprintf("core: level-%d payload changed between planning and sealing", pl.level))
		}
		verifyPayload(pl.level, pl.payload)
	}
	start := len(out)
	var err error
	if pl.level == 2 {
		out, err = wire.AppendShortHeader(out, c.paths[0].remote.active(), pl.pn, pl.pnLen, c.app.phase, false)
	} else {
		h := wire.Header{
			Type:    [2]wire.PacketType{wire.PacketInitial, wire.PacketHandshake}[pl.level],
			Version: wire.Version1,
			DCID:    c.paths[0].remote.active(),
			SCID:    c.paths[0].local.active[0].id[:],
			Token:   c.token,
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
	if pl.level == 2 {
		keys, hp = c.app.write, c.app.writeHP
	} else {
		keys, hp = c.keys[pl.level].write.Packet, c.keys[pl.level].write.Header
	}
	out = keys.Seal(out, header, pl.payload, pl.pn)
	hp.Apply(out[start:], pnOffset)
	return out
}

// fillFrames appends the frames of one packet at level to b, using at most
// avail bytes, and reports whether any is ack-eliciting. ackOnly restricts
// the packet to acknowledgements (pacing or congestion hold data back).
func (c *Conn) fillFrames(now time.Time, level int, b []byte, avail int, rec *sentRecord, ackOnly bool) ([]byte, bool) {
	p := c.paths[0]
	space := spaceOf[level]
	start := len(b)
	left := func() int { return avail - (len(b) - start) }
	eliciting := false
	add := func(f *wire.Frame) bool {
		n := f.Len()
		if n < 0 || n > left() {
			return false
		}
		b, _ = f.Append(b)
		return true
	}

	acks := p.rec.Acks(space)
	probes := p.rec.ProbesPending(space)
	canSend := !ackOnly && (p.rec.CanSend(space) || probes > 0)
	wantData := canSend && c.hasDataToSend(level)
	if acks.HasRanges() && (acks.ShouldSendAck(now) || acks.Pending() && wantData) {
		c.appendAck(level, acks, now, &b, left(), rec)
	}
	if !canSend {
		return b, false
	}
	if level == 2 {
		if c.handshakeOut && add(&wire.Frame{Type: wire.FrameHandshakeDone}) {
			c.handshakeOut, rec.handshakeDone, eliciting = false, true, true
		}
		for len(c.pathResponses) > 0 && add(&wire.Frame{Type: wire.FramePathResponse, PathData: c.pathResponses[0]}) {
			c.pathResponses = c.pathResponses[1:]
			eliciting = true
		}
	}
	cs := &c.crypto[level].send
	for cs.hasData() {
		off := cs.peekOffset()
		max := wire.MaxCryptoDataLen(off, left())
		if max <= 0 {
			break
		}
		off, data := cs.next(max)
		if !add(&wire.Frame{Type: wire.FrameCrypto, Offset: off, Data: data}) {
			cs.onLost(off, uint64(len(data)))
			break
		}
		rec.crypto = append(rec.crypto, cryptoRange{off, uint64(len(data))})
		eliciting = true
	}
	if level == 2 {
		eliciting = c.fillAppFrames(now, &b, left, rec) || eliciting
	}
	if !eliciting && (probes > 0 || (level == 2 && c.sendPing)) && add(&wire.Frame{Type: wire.FramePing}) {
		eliciting = true
	}
	if level == 2 && eliciting {
		c.sendPing = false
	}
	return b, eliciting
}

func (c *Conn) hasDataToSend(level int) bool {
	if c.crypto[level].send.hasData() {
		return true
	}
	if level < 2 {
		return false
	}
	return c.handshakeOut || c.sendPing || len(c.pathResponses) > 0 || len(c.paths[0].local.pending) > 0 ||
		len(c.retireCIDs) > 0 || len(c.dgramsOut) > 0 || c.streams.HasPending()
}

func (c *Conn) appendAck(level int, acks *recovery.AckTracker, now time.Time, b *[]byte, avail int, rec *sentRecord) {
	c.recRanges = acks.AppendRanges(c.recRanges[:0])
	c.wireRanges = c.wireRanges[:0]
	for _, r := range c.recRanges {
		c.wireRanges = append(c.wireRanges, wire.AckRange{Smallest: r.Smallest, Largest: r.Largest})
	}
	f := wire.Frame{Type: wire.FrameAck, AckRanges: c.wireRanges}
	if level == 2 {
		f.AckDelay = uint64(acks.AckDelay(now)/time.Microsecond) >> ackDelayExponent
	}
	if ecn := acks.ECNCounts(); ecn != (recovery.ECNCounts{}) {
		f.Type, f.ECT0, f.ECT1, f.ECNCE = wire.FrameAckECN, ecn.ECT0, ecn.ECT1, ecn.CE
	}
	// Drop the oldest ranges until the frame fits.
	for f.Len() > avail && len(f.AckRanges) > 1 {
		f.AckRanges = f.AckRanges[:len(f.AckRanges)-1]
	}
	if f.Len() < 0 || f.Len() > avail {
		return
	}
	*b, _ = f.Append(*b)
	largest := acks.OnAckSent()
	rec.ackLargest = int64(largest)
}

// fillAppFrames adds the 1-RTT-only frames: connection IDs, flow control,
// datagrams and stream data.
func (c *Conn) fillAppFrames(now time.Time, b *[]byte, left func() int, rec *sentRecord) bool {
	eliciting := false
	add := func(f *wire.Frame) bool {
		n := f.Len()
		if n < 0 || n > left() {
			return false
		}
		*b, _ = f.Append(*b)
		eliciting = true
		return true
	}
	for len(c.paths[0].local.pending) > 0 {
		seq := c.paths[0].local.pending[0]
		id, ok := c.paths[0].local.lookup(seq)
		if ok {
			if !add(&wire.Frame{Type: wire.FrameNewConnectionID, Sequence: seq, ConnID: id.id[:], ResetToken: id.token}) {
				break
			}
			rec.newCIDs = append(rec.newCIDs, seq)
		}
		c.paths[0].local.pending = c.paths[0].local.pending[1:]
	}
	for len(c.retireCIDs) > 0 && add(&wire.Frame{Type: wire.FrameRetireConnectionID, Sequence: c.retireCIDs[0]}) {
		rec.retireCIDs = append(rec.retireCIDs, c.retireCIDs[0])
		c.retireCIDs = c.retireCIDs[1:]
	}
	for {
		sf, ok := c.streams.NextControl(now, left())
		if !ok {
			break
		}
		wf := controlFrame(sf)
		if !add(&wf) {
			c.streams.OnLost(sf) // cannot happen: NextControl honours the size
			break
		}
		rec.streams = append(rec.streams, sf)
	}
	for len(c.dgramsOut) > 0 {
		d := c.dgramsOut[0]
		f := wire.Frame{Type: wire.FrameDatagram, Data: d}
		if f.Len() > left() {
			break
		}
		add(&f)
		c.dgramsOut = c.dgramsOut[1:]
	}
	for left() > 8 {
		sf, data, ok := c.streams.NextStreamFrame(left())
		if !ok {
			break
		}
		f := wire.Frame{Type: wire.FrameStream, StreamID: uint64(sf.ID), Offset: sf.Offset, Data: data, Fin: sf.Fin}
		if !add(&f) {
			c.streams.OnLost(sf)
			break
		}
		rec.streams = append(rec.streams, sf)
	}
	c.paths[0].rec.SetAppLimited(!c.streams.HasPending())
	return eliciting
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
