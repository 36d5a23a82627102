package core

import (
	"bytes"
	"fmt"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/protection"
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
		return sender{c, now, buf}.close(p), p.addr
	}
	if c.mp != nil {
		return sender{c, now, buf}.poll()
	}
	p := c.paths[0]
	if n := c.pollMTUProbe(now, p, buf); n > 0 {
		return n, p.addr
	}
	if n, to := c.pollOffPath(now, p, buf); n > 0 {
		return n, to
	}
	return sender{c, now, buf}.on(p, true)
}

func (c *Conn) canWrite(l level) bool {
	if l != levelApp {
		return c.keys[l].canWrite
	}
	if !c.app.canWrite {
		return false
	}
	// Before completion the server sends only its candidates and CIDs
	// (0.5-RTT): nothing else it could send then needs to go early.
	return c.tls.State().Complete || (c.side == Server && c.earlyFramesPending())
}

// earlyFramesPending: the server has candidates or CIDs to announce.
func (c *Conn) earlyFramesPending() bool {
	return (c.nat != nil && c.nat.framesPending()) || c.mp.cidFramesPending(c.paths[0].local)
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

// cidFramesPending reports whether NEW_CONNECTION_ID frames are owed;
// single holds our CIDs of the only path when multipath is off.
func (m *multipath) cidFramesPending(single *localCIDs) bool {
	if m == nil {
		return len(single.pending) > 0
	}
	for _, s := range m.sets {
		if len(s.local.pending) > 0 {
			return true
		}
	}
	return false
}
