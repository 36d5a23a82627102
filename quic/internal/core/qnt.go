package core

import (
	"errors"
	"io"
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

type natAddr struct {
	seq  uint64
	addr netip.AddrPort
}

type natProbe struct {
	addr     netip.AddrPort
	token    [8]byte
	attempts int
	next     time.Time
	done     bool
}

// offPath is a packet owed to an address that is not its path's: the
// answer to a probe, with the client's own challenge bundled.
type offPath struct {
	path      uint64
	to        Addr
	response  [8]byte
	challenge bool
	recv      int // size of the datagram that carried the probe
}

// natTraversal is the QNT state, present once negotiated.
type natTraversal struct {
	peerLimit int
	// Server: the candidates we announce; client: those the server did.
	addrs   []natAddr
	nextSeq uint64
	addOut  []uint64 // server: ADD_ADDRESS owed, by sequence number
	delOut  []uint64 // server: REMOVE_ADDRESS owed
	// Client: the current round and its REACH_OUTs owed.
	round    uint64
	reachOut []netip.AddrPort
	probes   []natProbe
	offPaths []offPath
	// Server: highest round the client started, and its size so far.
	remoteRound      uint64
	remoteRoundAddrs int
	// Server: when the current round's probes start, and when the last
	// round that did start began (see natMinRoundGap).
	roundAt, prevRoundAt time.Time
	// probeBudget paces our probes, whoever asked for them.
	probeBudget tokenBucket
}

// recordNAT is what a packet carried of the QNT frames.
type recordNAT struct {
	adds, dels []uint64
	reach      []netip.AddrPort
	round      uint64
}

func (c *Conn) startNatTraversal() {
	if c.cfg.NatTraversal && c.peerParams.MaxRemoteNATAddresses != 0 && c.mp != nil {
		c.nat = &natTraversal{
			peerLimit:   int(c.peerParams.MaxRemoteNATAddresses),
			probeBudget: tokenBucket{burst: natProbeBurst, every: natProbeEvery},
		}
	}
}

// NatTraversal reports whether n0 NAT traversal was negotiated.
func (c *Conn) NatTraversal() bool { return c.nat != nil }

func canonical(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// AddNatAddress announces one of our candidate addresses to the client
// (server side).
func (c *Conn) AddNatAddress(ap netip.AddrPort) error {
	if c.nat == nil {
		return ErrNatTraversalNotNegotiated
	}
	if c.side != Server {
		return ErrNatWrongSide
	}
	ap = canonical(ap)
	for _, a := range c.nat.addrs {
		if a.addr == ap {
			return nil
		}
	}
	if len(c.nat.addrs) >= c.nat.peerLimit {
		return ErrNatAddressLimit
	}
	c.nat.addrs = append(c.nat.addrs, natAddr{seq: c.nat.nextSeq, addr: ap})
	c.nat.addOut = append(c.nat.addOut, c.nat.nextSeq)
	c.nat.nextSeq++
	return nil
}

// RemoveNatAddress withdraws a candidate announced with AddNatAddress.
func (c *Conn) RemoveNatAddress(ap netip.AddrPort) error {
	if c.nat == nil {
		return ErrNatTraversalNotNegotiated
	}
	if c.side != Server {
		return ErrNatWrongSide
	}
	ap = canonical(ap)
	for i, a := range c.nat.addrs {
		if a.addr == ap {
			c.nat.addrs = append(c.nat.addrs[:i], c.nat.addrs[i+1:]...)
			c.nat.addOut = dropSeq(c.nat.addOut, a.seq)
			c.nat.delOut = append(c.nat.delOut, a.seq)
			return nil
		}
	}
	return nil
}

func dropSeq(s []uint64, seq uint64) []uint64 {
	for i, x := range s {
		if x == seq {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

// NatRemoteAddresses returns the candidates the server announced (client).
func (c *Conn) NatRemoteAddresses() []netip.AddrPort {
	if c.nat == nil || c.side != Client {
		return nil
	}
	out := make([]netip.AddrPort, len(c.nat.addrs))
	for i, a := range c.nat.addrs {
		out[i] = a.addr
	}
	return out
}

// StartNatTraversalRound starts a hole-punching round (client side): it
// tells the server our candidate addresses (REACH_OUT, at most the
// server's limit) and probes every candidate the server announced. A
// probe answered from its address opens a Backup path there.
func (c *Conn) StartNatTraversalRound(now time.Time, local []netip.AddrPort) error {
	if c.nat == nil {
		return ErrNatTraversalNotNegotiated
	}
	if c.side != Client {
		return ErrNatWrongSide
	}
	n := c.nat
	n.round++
	n.reachOut = n.reachOut[:0]
	for _, ap := range local {
		if len(n.reachOut) == n.peerLimit {
			break
		}
		n.reachOut = append(n.reachOut, canonical(ap))
	}
	n.probes = n.probes[:0]
	for _, a := range n.addrs {
		if c.pathTo(UDPAddr(a.addr)) == nil && c.natTargetAllowed(a.addr) {
			c.addProbe(now, a.addr)
		}
	}
	return nil
}

func (c *Conn) addProbe(now time.Time, ap netip.AddrPort) {
	pr := natProbe{addr: ap, next: now}
	io.ReadFull(c.rand, pr.token[:])
	c.nat.probes = append(c.nat.probes, pr)
}

// pathTo returns the live path to addr, if any.
func (c *Conn) pathTo(addr Addr) *path {
	for _, p := range c.paths {
		if p.addr == addr && (p.mp == nil || !p.mp.abandoned) {
			return p
		}
	}
	return nil
}

// natRetryDelay is the wait after probe attempt k (0-based): a tenth of
// the initial RTT, doubling from the second retry, at most 2 s.
func (c *Conn) natRetryDelay(k int) time.Duration {
	rtt := c.cfg.InitialRTT
	if rtt == 0 {
		rtt = recovery.DefaultInitialRTT
	}
	base := rtt / 10
	if k == 0 {
		return base
	}
	return min(base<<min(k-1, natMaxBackoff), natMaxInterval)
}

// handleNatFrame processes ADD_ADDRESS, REMOVE_ADDRESS and REACH_OUT.
func (c *Conn) handleNatFrame(now time.Time, f *wire.Frame) error {
	if c.nat == nil {
		return protocolViolation("frame of an extension that was not negotiated")
	}
	n := c.nat
	switch f.Type {
	case wire.FrameAddAddressIPv4, wire.FrameAddAddressIPv6:
		if c.side != Client {
			return protocolViolation("ADD_ADDRESS not allowed for this endpoint's connection side")
		}
		ap := canonical(f.Addr)
		for i := range n.addrs {
			if n.addrs[i].seq == f.Sequence {
				n.addrs[i].addr = ap // a reused sequence number replaces the address
				c.emit(Event{Kind: EventNatAddresses})
				return nil
			}
		}
		if len(n.addrs) < NatAddressLimit {
			n.addrs = append(n.addrs, natAddr{seq: f.Sequence, addr: ap})
			c.emit(Event{Kind: EventNatAddresses})
		}
	case wire.FrameRemoveAddress:
		if c.side != Client {
			return protocolViolation("REMOVE_ADDRESS not allowed for this endpoint's connection side")
		}
		for i, a := range n.addrs {
			if a.seq == f.Sequence {
				n.addrs = append(n.addrs[:i], n.addrs[i+1:]...)
				c.stopProbes(a.addr)
				c.emit(Event{Kind: EventNatAddresses})
				break
			}
		}
	case wire.FrameReachOutIPv4, wire.FrameReachOutIPv6:
		if c.side != Server {
			return protocolViolation("REACH_OUT not allowed for this endpoint's connection side")
		}
		switch {
		case f.Sequence < n.remoteRound:
			return nil // an older round
		case f.Sequence > n.remoteRound:
			n.remoteRound, n.remoteRoundAddrs = f.Sequence, 0
			n.probes = n.probes[:0]
			n.startRemoteRound(now)
		}
		n.remoteRoundAddrs++
		if n.remoteRoundAddrs > NatAddressLimit {
			return protocolViolation("REACH_OUT beyond the address limit")
		}
		if ap := canonical(f.Addr); c.natTargetAllowed(ap) {
			c.addProbe(n.roundAt, ap)
		}
	}
	return nil
}

func (c *Conn) stopProbes(ap netip.AddrPort) {
	for i := range c.nat.probes {
		if c.nat.probes[i].addr == ap {
			c.nat.probes[i].done = true
		}
	}
}

// offPathChallenge answers a PATH_CHALLENGE that arrived on path p in rx,
// from an address that is not p's: a NAT traversal probe.
func (c *Conn) offPathChallenge(p *path, rx *rxDatagram, data [8]byte) {
	from := rx.from
	if len(c.nat.offPaths) >= 16 {
		return
	}
	// The client adds its own challenge unless from is already a path.
	challenge := c.side == Client && c.pathTo(from) == nil
	c.nat.offPaths = append(c.nat.offPaths, offPath{path: p.id, to: from, response: data, challenge: challenge, recv: rx.size})
}

// natPathResponse reports whether a PATH_RESPONSE from from answers one of
// our probes; the client then opens a Backup path there.
func (c *Conn) natPathResponse(now time.Time, from Addr, data [8]byte) bool {
	for i := range c.nat.probes {
		pr := &c.nat.probes[i]
		if pr.token != data || UDPAddr(pr.addr) != from {
			continue
		}
		pr.done = true
		if c.side == Client && c.pathTo(from) == nil {
			c.openPath(now, from, PathBackup)
		}
		return true
	}
	return false
}

// pollNat sends the next due probe or off-path answer, if any.
func (c *Conn) pollNat(now time.Time, buf []byte) (int, Addr) {
	n := c.nat
	for len(n.offPaths) > 0 {
		op := n.offPaths[0]
		n.offPaths = n.offPaths[1:]
		p := c.pathByID(op.path)
		if p == nil || !p.remote.usable() {
			continue
		}
		frames := []wire.Frame{{Type: wire.FramePathResponse, PathData: op.response}}
		if op.challenge {
			var pr natProbe
			io.ReadFull(c.rand, pr.token[:])
			pr.addr, pr.attempts, pr.next = op.to.UDP, natProbeAttempts, now // answered or not, sent once
			n.probes = append(n.probes, pr)
			frames = append(frames, wire.Frame{Type: wire.FramePathChallenge, PathData: pr.token})
		}
		return c.sendProbePacket(now, p, op.to, frames, offPathPadding(op.recv), buf), op.to
	}
	p := c.dataPath()
	if p == nil || !c.confirmed {
		return 0, Addr{}
	}
	for i := range n.probes {
		pr := &n.probes[i]
		if pr.done || pr.attempts >= natProbeAttempts || now.Before(pr.next) {
			continue
		}
		if !n.probeBudget.take(now) {
			break
		}
		pr.next = now.Add(c.natRetryDelay(pr.attempts))
		pr.attempts++
		to := UDPAddr(pr.addr)
		return c.sendProbePacket(now, p, to, []wire.Frame{{Type: wire.FramePathChallenge, PathData: pr.token}}, 0, buf), to
	}
	return 0, Addr{}
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
	payload := c.scratch[:0]
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
	rec := c.newRecord(levelApp)
	pl := planned{path: p, level: levelApp, pn: pn, pnLen: pnLen, payload: payload, rec: rec}
	if verifyPayload != nil {
		pl.planned = append([]byte(nil), payload...)
	}
	out := c.sealPacket(buf[:0], &pl)
	c.scratch = payload[:0]
	p.rec.OnPacketSent(recovery.AppData, recovery.SentPacket[*sentRecord]{Number: pn, TimeSent: now, Size: len(out), Payload: rec})
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(out))
	c.app.sentInPhase++
	return len(out)
}

// natTimers reports the next probe due.
func (c *Conn) natTimers(consider func(time.Time)) {
	if c.dataPath() == nil {
		return
	}
	var next time.Time
	for _, pr := range c.nat.probes {
		if !pr.done && pr.attempts < natProbeAttempts && (next.IsZero() || pr.next.Before(next)) {
			next = pr.next
		}
	}
	if b := &c.nat.probeBudget; !next.IsZero() && b.empty() && b.nextToken().After(next) {
		next = b.nextToken()
	}
	consider(next)
}

// fillNatFrames adds the owed ADD_ADDRESS, REMOVE_ADDRESS and REACH_OUT
// frames on the data path.
func (c *Conn) fillNatFrames(add func(*wire.Frame) bool, rec *sentRecord) {
	n := c.nat
	for len(n.addOut) > 0 {
		seq := n.addOut[0]
		a, ok := n.lookup(seq)
		if ok {
			t := wire.FrameAddAddressIPv4
			if a.addr.Addr().Is6() {
				t = wire.FrameAddAddressIPv6
			}
			if !add(&wire.Frame{Type: t, Sequence: seq, Addr: a.addr}) {
				return
			}
			r := recNAT(rec)
			r.adds = append(r.adds, seq)
		}
		n.addOut = n.addOut[1:]
	}
	for len(n.delOut) > 0 && add(&wire.Frame{Type: wire.FrameRemoveAddress, Sequence: n.delOut[0]}) {
		r := recNAT(rec)
		r.dels = append(r.dels, n.delOut[0])
		n.delOut = n.delOut[1:]
	}
	for len(n.reachOut) > 0 {
		ap := n.reachOut[0]
		t := wire.FrameReachOutIPv4
		if ap.Addr().Is6() {
			t = wire.FrameReachOutIPv6
		}
		if !add(&wire.Frame{Type: t, Sequence: n.round, Addr: ap}) {
			return
		}
		r := recNAT(rec)
		r.reach, r.round = append(r.reach, ap), n.round
		n.reachOut = n.reachOut[1:]
	}
}

func (n *natTraversal) lookup(seq uint64) (natAddr, bool) {
	for _, a := range n.addrs {
		if a.seq == seq {
			return a, true
		}
	}
	return natAddr{}, false
}

func (n *natTraversal) framesPending() bool {
	return len(n.addOut) > 0 || len(n.delOut) > 0 || len(n.reachOut) > 0
}

func recNAT(rec *sentRecord) *recordNAT {
	r := recMP(rec)
	if r.nat == nil {
		r.nat = new(recordNAT)
	}
	return r.nat
}

// onNatRecordLost queues the lost QNT frames again while still current.
func (c *Conn) onNatRecordLost(r *recordNAT) {
	n := c.nat
	if n == nil {
		return
	}
	for _, seq := range r.adds {
		if _, ok := n.lookup(seq); ok {
			n.addOut = append(n.addOut, seq)
		}
	}
	n.delOut = append(n.delOut, r.dels...)
	if r.round == n.round {
		n.reachOut = append(n.reachOut, r.reach...)
	}
}
