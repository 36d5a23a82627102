package core

import (
	"errors"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// n0 NAT traversal ("QNT"), iroh's hole punching on top of multipath: the
// server announces candidate addresses (ADD_ADDRESS / REMOVE_ADDRESS), the
// client starts rounds listing its own (REACH_OUT), and both send
// PATH_CHALLENGE probes from their socket to the other's candidates. A
// probe answered from the probed address opens a new path (client side).
//
// The state splits as in noq: natClient or natServer by our side, and a
// natProber both use; this file is the connection's part (frames, paths,
// sending).

const (
	// NatAddressLimit is how many remote candidates we accept (iroh: 32).
	NatAddressLimit = 32
	// natProbeAttempts is how many probes an address gets per round.
	natProbeAttempts = 9
	natMaxBackoff    = 8
	natMaxInterval   = 2 * time.Second
)

// Errors of the NAT traversal API.
var (
	ErrNatTraversalNotNegotiated = errors.New("quic: n0 NAT traversal not negotiated")
	ErrNatWrongSide              = errors.New("quic: not allowed on this side of the connection")
	ErrNatAddressLimit           = errors.New("quic: peer accepts no more candidate addresses")
)

// natTraversal is the QNT state, present once negotiated. Exactly one of
// client and server is set, by our side of the connection.
type natTraversal struct {
	peerLimit int // the peer's max_remote_nat_addresses
	client    *natClient
	server    *natServer
	prober    natProber
}

// recordNAT is what a packet carried of the QNT frames.
type recordNAT struct {
	adds, dels []uint64
	reach      []netip.AddrPort
	round      uint64
}

func newNatTraversal(side Side, peerLimit int, prober natProber) *natTraversal {
	n := &natTraversal{peerLimit: peerLimit, prober: prober}
	if side == Client {
		n.client = new(natClient)
	} else {
		n.server = new(natServer)
	}
	return n
}

// clientSide is our client state, or why there is none.
func (n *natTraversal) clientSide() (*natClient, error) {
	if n == nil || n.client == nil {
		return nil, n.missing()
	}
	return n.client, nil
}

// serverSide is our server state, or why there is none.
func (n *natTraversal) serverSide() (*natServer, error) {
	if n == nil || n.server == nil {
		return nil, n.missing()
	}
	return n.server, nil
}

// missing says why a side's state is absent: no NAT traversal at all, or
// we are the other side.
func (n *natTraversal) missing() error {
	if n == nil {
		return ErrNatTraversalNotNegotiated
	}
	return ErrNatWrongSide
}

func (n *natTraversal) appendFrames(add func(*wire.Frame) bool, rec *sentRecord) {
	if n.server != nil {
		n.server.appendFrames(add, rec)
		return
	}
	n.client.appendFrames(add, rec)
}

func (n *natTraversal) framesPending() bool {
	if n.server != nil {
		return n.server.framesPending()
	}
	return n.client.framesPending()
}

func (n *natTraversal) onLost(r *recordNAT) {
	if n.server != nil {
		n.server.onLost(r)
		return
	}
	n.client.onLost(r)
}

func recNAT(rec *sentRecord) *recordNAT {
	r := recMP(rec)
	if r.nat == nil {
		r.nat = new(recordNAT)
	}
	return r.nat
}

func canonical(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (c *Conn) startNatTraversal() {
	if !c.cfg.NatTraversal || c.params.peer.MaxRemoteNATAddresses == 0 || c.mp == nil {
		return
	}
	c.nat = newNatTraversal(c.side, int(c.params.peer.MaxRemoteNATAddresses), newNatProber(c.rand, c.cfg.InitialRTT))
	if c.side == Server && c.cfg.NatAddresses != nil {
		for _, ap := range c.cfg.NatAddresses() {
			if c.nat.server.addLocal(ap, c.nat.peerLimit) != nil {
				break // over the client's limit
			}
		}
	}
}

// startNatRound starts a client round: REACH_OUTs of local, and probes to
// every server candidate we have no path to.
func (c *Conn) startNatRound(now time.Time, local []netip.AddrPort) error {
	s, err := c.nat.clientSide()
	if err != nil {
		return err
	}
	s.startRound(local, c.nat.peerLimit)
	c.nat.prober.reset()
	for _, a := range s.remote {
		if c.paths.to(UDPAddr(a.addr)) == nil && c.natTargetAllowed(a.addr) {
			c.nat.prober.add(now, a.addr)
		}
	}
	return nil
}

// handleNatFrame processes ADD_ADDRESS, REMOVE_ADDRESS and REACH_OUT.
func (c *Conn) handleNatFrame(now time.Time, f *wire.Frame) error {
	if c.nat == nil {
		return protocolViolation("frame of an extension that was not negotiated")
	}
	switch f.Type {
	case wire.FrameAddAddressIPv4, wire.FrameAddAddressIPv6:
		s, err := c.nat.clientSide()
		if err != nil {
			return protocolViolation("ADD_ADDRESS not allowed for this endpoint's connection side")
		}
		if s.addRemote(f.Sequence, f.Addr) {
			c.emit(Event{Kind: EventNatAddresses})
		}
	case wire.FrameRemoveAddress:
		s, err := c.nat.clientSide()
		if err != nil {
			return protocolViolation("REMOVE_ADDRESS not allowed for this endpoint's connection side")
		}
		if ap, ok := s.removeRemote(f.Sequence); ok {
			c.nat.prober.stop(ap)
			s.dropReached(UDPAddr(ap))
			c.emit(Event{Kind: EventNatAddresses})
		}
	case wire.FrameReachOutIPv4, wire.FrameReachOutIPv6:
		s, err := c.nat.serverSide()
		if err != nil {
			return protocolViolation("REACH_OUT not allowed for this endpoint's connection side")
		}
		probe, fresh, err := s.reachOut(now, f.Sequence)
		if fresh {
			c.nat.prober.reset()
		}
		if err != nil || !probe {
			return err
		}
		if ap := canonical(f.Addr); c.natTargetAllowed(ap) {
			c.nat.prober.addSoon(s.roundAt, ap, s.untilConfirmed(now))
		}
	}
	return nil
}

// offPathChallenge answers a PATH_CHALLENGE that arrived on path p in rx,
// from an address that is not p's: a NAT traversal probe.
func (c *Conn) offPathChallenge(now time.Time, p *path, rx *rxDatagram, data [8]byte) {
	// The client adds its own challenge unless the address is already a path.
	challenge := c.side == Client && c.paths.to(rx.from) == nil
	op := offPath{path: p.id, to: rx.from, response: data, challenge: challenge, recv: rx.size}
	c.nat.prober.queueAnswer(op)
	if s := c.nat.server; s != nil && !s.peerConfirmed {
		// The client may drop it: again at untilConfirmed's times, and
		// once it confirms (onPeerConfirmed).
		for _, at := range s.untilConfirmed(now) {
			c.nat.prober.queueRepeat(at, op)
		}
		if len(s.early) < maxNatAnswers {
			s.early = append(s.early, op)
		}
	}
}

// onPeerConfirmed: the client acknowledged our HANDSHAKE_DONE, so it now
// takes packets from new addresses. What it may have dropped before goes
// again at once: the answers to its probes, and our probes nobody
// answered yet. (The timed resends of untilConfirmed usually come first;
// this covers a relay slower than they guessed.)
func (c *Conn) onPeerConfirmed(now time.Time) {
	s := c.nat.server
	if s.peerConfirmed {
		return
	}
	s.peerConfirmed = true
	pr := &c.nat.prober
	pr.repeats = pr.repeats[:0]
	for _, op := range s.early {
		op.challenge = false
		pr.queueAnswer(op)
	}
	s.early = nil
	for i := range pr.probes {
		if p := &pr.probes[i]; !p.done && !p.stale && p.sends > 0 && p.attempts < natProbeAttempts {
			p.soon = []time.Time{now}
		}
	}
}

// natPathResponse reports whether a PATH_RESPONSE from from answers one of
// our probes; the client then opens a Backup path there, usable at once.
func (c *Conn) natPathResponse(now time.Time, from Addr, data [8]byte) bool {
	ok, rtt := c.nat.prober.answered(now, from, data)
	if !ok {
		return false
	}
	if c.side == Client && c.paths.to(from) == nil && !c.openProbedPath(now, from, rtt) {
		// No path ID or connection IDs for it yet (the answer overtook
		// the server's PATH_NEW_CONNECTION_ID): open it when they come.
		c.nat.client.keepReached(reachedAddr{addr: from, rtt: rtt})
	}
	return true
}

// openProbedPath opens a Backup path to from, which answered a probe,
// usable at once; false if no path can be opened yet.
func (c *Conn) openProbedPath(now time.Time, from Addr, rtt time.Duration) bool {
	id := c.openPath(now, from, PathBackup)
	if id == 0 {
		return false
	}
	c.paths.byID(uint64(id)).trustProbe(rtt)
	c.emit(Event{Kind: EventPathValidated, Path: id})
	return true
}

// openReachedPaths opens the paths that answered probes before they could
// be opened, once they can.
func (c *Conn) openReachedPaths(now time.Time) {
	s, err := c.nat.clientSide()
	if err != nil || len(s.reached) == 0 {
		return
	}
	kept := s.reached[:0]
	for _, r := range s.reached {
		if c.paths.to(r.addr) == nil && !c.openProbedPath(now, r.addr, r.rtt) {
			kept = append(kept, r)
		}
	}
	s.reached = kept
}

// pollNat sends the next due probe or off-path answer, if any.
func (c *Conn) pollNat(now time.Time, buf []byte) (int, Addr) {
	pr := &c.nat.prober
	pr.releaseRepeats(now)
	for {
		op, ok := pr.nextAnswer()
		if !ok {
			break
		}
		p := c.paths.byID(op.path)
		if p == nil || !p.remote.usable() {
			continue
		}
		frames := []wire.Frame{{Type: wire.FramePathResponse, PathData: op.response}}
		if op.challenge {
			token := pr.sendOnce(now, op.to.UDP)
			frames = append(frames, wire.Frame{Type: wire.FramePathChallenge, PathData: token})
		}
		return c.sendProbePacket(now, p, op.to, frames, offPathPadding(op.recv), buf), op.to
	}
	p := c.paths.data()
	if p == nil || c.state != stateEstablished {
		return 0, Addr{}
	}
	ap, token, ok := pr.due(now)
	if !ok {
		return 0, Addr{}
	}
	to := UDPAddr(ap)
	return c.sendProbePacket(now, p, to, []wire.Frame{{Type: wire.FramePathChallenge, PathData: token}}, 0, buf), to
}

// offPathPadding is the datagram size an answer to recv bytes from an
// unvalidated address is padded to: 1200 bytes (RFC 9000 §8.2.1) when
// three times recv allows it (§8.1), else none, so a spoofed probe
// cannot be amplified at a victim (a partly padded answer would prove
// nothing about the path MTU anyway).
func offPathPadding(recv int) int {
	if 3*recv >= minInitialDatagram {
		return minInitialDatagram
	}
	return 0
}

// sendProbePacket seals frames as a 1-RTT packet in p's packet-number
// space, addressed elsewhere, padded up to padTo bytes when that is
// larger. It is recorded without being in flight, so an unreachable
// candidate costs p no congestion window.
func (c *Conn) sendProbePacket(now time.Time, p *path, to Addr, frames []wire.Frame, padTo int, buf []byte) int {
	payload := c.bufs.payload[:0]
	for i := range frames {
		payload, _ = frames[i].Append(payload)
	}
	pn := p.rec.NextPacketNumber(recovery.AppData)
	largest := int64(-1)
	if la, ok := p.rec.LargestAcked(recovery.AppData); ok {
		largest = int64(la)
	}
	pnLen := wire.PacketNumberLen(pn, largest)
	if short := 4 - pnLen - len(payload); short > 0 {
		payload = appendPadding(payload, short)
	}
	if total := c.headerLen(levelApp, p) + pnLen + len(payload) + 16; total < padTo {
		payload = appendPadding(payload, padTo-total)
	}
	rec := c.records.get(levelApp)
	pl := planned{path: p, level: levelApp, pn: pn, pnLen: pnLen, payload: payload, rec: rec}
	if c.checkPayload != nil {
		pl.planned = append([]byte(nil), payload...)
	}
	out := c.sealPacket(buf[:0], &pl)
	c.bufs.payload = payload[:0]
	p.rec.OnPacketSent(recovery.AppData, recovery.SentPacket[*sentRecord]{Number: pn, TimeSent: now, Size: len(out), Payload: rec})
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(out))
	c.app.sentInPhase++
	return len(out)
}

// NatTimeout is the next hole-punching deadline (a probe, or a resent
// answer), also part of Timeout. A driver may wake for it more precisely
// than for the others: these are fractions of a relay round trip, and
// each one late delays the direct path by as much.
func (c *Conn) NatTimeout() (at time.Time, ok bool) {
	if c.nat == nil || c.paths.data() == nil || c.state != stateEstablished {
		return time.Time{}, false
	}
	at = c.nat.prober.timer()
	return at, !at.IsZero()
}
