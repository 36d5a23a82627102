package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Path MTU discovery (DPLPMTUD, RFC 8899 and RFC 9000 §14.3) with iroh's
// settings: a binary search from 1200 bytes up to 1452 with PING+PADDING
// probes, one probe in flight at a time, repeated every ten minutes, and a
// black-hole detector that drops back to 1200 when full-size packets keep
// getting lost.
const (
	// MinMTU is the UDP payload every QUIC path must carry (RFC 9000 §14).
	MinMTU = minInitialDatagram
	// DefaultMTUUpperBound is the largest UDP payload probed for, iroh's.
	DefaultMTUUpperBound = 1452
	// mtuSearchInterval separates searches once one has finished.
	mtuSearchInterval = 600 * time.Second
	// mtuBlackHoleCooldown delays the next search after a black hole.
	mtuBlackHoleCooldown = 60 * time.Second
	// mtuMinChange ends the binary search when the step gets this small.
	mtuMinChange = 20
	// mtuProbeAttempts is how often one size is tried before it counts
	// as too large.
	mtuProbeAttempts = 3
	// blackHoleBursts: more suspicious loss bursts than this mean the
	// path's MTU shrank.
	blackHoleBursts = 3
)

type mtuPhase uint8

const (
	mtuIdle      mtuPhase = iota // not started: handshake not confirmed
	mtuSearching                 // binary search running
	mtuDone                      // waiting for the next search at mtuDiscovery.next
)

// mtuDiscovery is one path's PMTU state.
type mtuDiscovery struct {
	enabled bool
	current int // datagram size the path uses now
	upper   int // the search's ceiling: ours, iroh's and the peer's limits
	phase   mtuPhase
	next    time.Time // mtuDone: when to search again

	// The binary search.
	lo, hi, last int
	probePN      uint64
	probeOut     bool
	lostProbes   int // losses of the size last probed

	bh blackHoleDetector
}

func newMTUDiscovery(enabled bool, upper int) *mtuDiscovery {
	return &mtuDiscovery{enabled: enabled, current: MinMTU, upper: max(upper, MinMTU), bh: blackHoleDetector{ackedMTU: MinMTU}}
}

// wantProbe returns the size of the probe to send now, or 0.
func (m *mtuDiscovery) wantProbe(now time.Time) int {
	if !m.enabled || m.probeOut {
		return 0
	}
	switch m.phase {
	case mtuIdle:
		m.startSearch()
	case mtuDone:
		if now.Before(m.next) {
			return 0
		}
		m.startSearch()
	}
	if m.lostProbes > 0 && m.lostProbes < mtuProbeAttempts {
		return m.last // retry the same size
	}
	succeeded := m.lostProbes == 0
	m.lostProbes = 0
	size := m.nextSize(succeeded)
	if size == 0 {
		m.phase, m.next = mtuDone, now.Add(mtuSearchInterval)
		return 0
	}
	m.last = size
	return size
}

func (m *mtuDiscovery) startSearch() {
	m.phase = mtuSearching
	m.lo, m.hi, m.last = m.current, max(m.upper, m.current), m.current
	m.lostProbes = 0
}

// nextSize moves the search bounds after the last probe and returns the
// next size to try, or 0 when the search is over.
func (m *mtuDiscovery) nextSize(lastSucceeded bool) int {
	if lastSucceeded {
		m.lo = m.last
	} else {
		m.hi = m.last - 1
	}
	mid := (m.lo + m.hi) / 2
	if d := mid - m.last; d < mtuMinChange && -d < mtuMinChange {
		// The step is too small to bother, but a ceiling still far away
		// is worth one direct try, or the search would never reach it.
		if m.hi-m.last >= mtuMinChange {
			return m.hi
		}
		return 0
	}
	return mid
}

// onProbeSent records the packet number of the probe just sent.
func (m *mtuDiscovery) onProbeSent(pn uint64) { m.probePN, m.probeOut = pn, true }

// onAcked handles an acknowledged 1-RTT packet and reports a new MTU.
func (m *mtuDiscovery) onAcked(pn uint64, size int) (newMTU int, ok bool) {
	if m.probeOut && pn == m.probePN && m.phase == mtuSearching {
		m.probeOut, m.lostProbes = false, 0
		m.current = m.last
		m.bh.onProbeAcked(pn, size)
		return m.current, true
	}
	m.bh.onAcked(pn, size)
	return 0, false
}

// onProbeLost counts a lost probe; the size is retried or given up.
func (m *mtuDiscovery) onProbeLost(pn uint64) {
	if !m.probeOut || pn != m.probePN {
		return
	}
	m.probeOut = false
	if m.phase == mtuSearching {
		m.lostProbes++
	}
}

// blackHole closes the current loss burst and reports whether the path's
// MTU collapsed; the path then falls back to MinMTU.
func (m *mtuDiscovery) blackHole(now time.Time) bool {
	if !m.bh.detected(m.current) {
		return false
	}
	m.current = MinMTU
	m.bh.ackedMTU = MinMTU
	m.probeOut = false
	if m.enabled {
		m.phase, m.next = mtuDone, now.Add(mtuBlackHoleCooldown)
	}
	return true
}

// reset forgets what was learnt, for a path now leading elsewhere.
func (m *mtuDiscovery) reset() {
	*m = *newMTUDiscovery(m.enabled, m.upper)
}

// blackHoleDetector groups lost packets into bursts of consecutive packet
// numbers. A burst is suspicious when every packet in it was larger than
// 1200 bytes and larger than anything acknowledged since: an MTU drop
// would explain it entirely. Too many suspicious bursts mean a black hole.
type blackHoleDetector struct {
	suspicious []int // smallest packet size of each suspicious burst
	inBurst    bool
	burstLast  uint64 // packet number of the burst's latest loss
	burstMin   int    // smallest packet size in the burst
	// largestPostLoss is the newest packet acknowledged after the last
	// suspicious burst; ackedMTU its size (at least 1200).
	largestPostLoss uint64
	ackedMTU        int
}

func (b *blackHoleDetector) onProbeAcked(pn uint64, size int) {
	// A probe is larger than anything before it: no burst stays suspicious.
	b.suspicious = b.suspicious[:0]
	b.ackedMTU, b.largestPostLoss = size, pn
}

func (b *blackHoleDetector) onAcked(pn uint64, size int) {
	if size <= b.ackedMTU {
		return
	}
	b.ackedMTU, b.largestPostLoss = size, pn
	kept := b.suspicious[:0]
	for _, s := range b.suspicious {
		if s > size {
			kept = append(kept, s)
		}
	}
	b.suspicious = kept
}

func (b *blackHoleDetector) onLost(pn uint64, size int) {
	if b.inBurst && pn != b.burstLast+1 {
		b.finishBurst()
	}
	if !b.inBurst {
		b.inBurst, b.burstMin = true, size
	}
	b.burstLast, b.burstMin = pn, min(b.burstMin, size)
}

func (b *blackHoleDetector) finishBurst() {
	if !b.inBurst {
		return
	}
	b.inBurst = false
	if b.burstMin <= MinMTU || (b.burstLast < b.largestPostLoss && b.burstMin <= b.ackedMTU) {
		return
	}
	if b.burstLast > b.largestPostLoss {
		b.ackedMTU = MinMTU
	}
	if len(b.suspicious) <= blackHoleBursts {
		b.suspicious = append(b.suspicious, b.burstMin)
		return
	}
	// Keep only the most telling bursts: replace the smallest.
	at := 0
	for i, s := range b.suspicious {
		if s < b.suspicious[at] {
			at = i
		}
	}
	if b.suspicious[at] < b.burstMin {
		b.suspicious[at] = b.burstMin
	}
}

func (b *blackHoleDetector) detected(current int) bool {
	b.finishBurst()
	if current <= MinMTU || len(b.suspicious) <= blackHoleBursts {
		return false
	}
	b.suspicious = b.suspicious[:0]
	return true
}

// mtuEligible reports whether p may be probed: the handshake is confirmed,
// the peer's limits are known and the path is validated and in use.
func (c *Conn) mtuEligible(p *path) bool {
	if !c.confirmed || !c.params.havePeer || !p.validated || p.mig != nil || !p.remote.usable() {
		return false
	}
	return p.mp == nil || (p.mp.usable && !p.mp.abandoned)
}

// mtuUpperBound is the largest datagram worth probing for: iroh's 1452
// (or the configured bound), within both sides' max_udp_payload_size.
func (c *Conn) mtuUpperBound() int {
	upper := DefaultMTUUpperBound
	if c.cfg.MTUUpperBound > 0 {
		upper = c.cfg.MTUUpperBound
	}
	upper = int(min(uint64(upper), c.cfg.MaxUDPPayload, c.params.peer.MaxUDPPayloadSize))
	return max(upper, MinMTU)
}

// pollMTUProbe sends p's next PMTU probe if one is due and the congestion
// window and pacer allow it.
func (c *Conn) pollMTUProbe(now time.Time, p *path, buf []byte) int {
	m := p.mtu
	if !m.enabled || m.probeOut || !c.mtuEligible(p) || p.pacedUntil.After(now) || !p.rec.CanSend(recovery.AppData) {
		return 0
	}
	m.upper = c.mtuUpperBound()
	size := m.wantProbe(now)
	if size == 0 || size > len(buf) {
		return 0
	}
	pn := p.rec.NextPacketNumber(recovery.AppData)
	largest := int64(-1)
	if la, ok := p.rec.LargestAcked(recovery.AppData); ok {
		largest = int64(la)
	}
	pnLen := wire.PacketNumberLen(pn, largest)
	room := size - c.headerLen(levelApp, p) - pnLen - 16
	if room < 1 {
		return 0
	}
	payload := append(c.bufs.payload[:0], byte(wire.FramePing))
	payload = appendPadding(payload, room-1)
	rec := c.records.get(levelApp)
	pl := planned{path: p, level: levelApp, pn: pn, pnLen: pnLen, payload: payload, rec: rec, ackEliciting: true}
	if c.checkPayload != nil {
		pl.planned = append([]byte(nil), payload...)
	}
	out := c.sealPacket(buf[:0], &pl)
	c.bufs.payload = payload[:0]
	p.rec.OnPacketSent(recovery.AppData, recovery.SentPacket[*sentRecord]{
		Number: pn, TimeSent: now, Size: len(out), AckEliciting: true, InFlight: true, MTUProbe: true, Payload: rec,
	})
	m.onProbeSent(pn)
	c.stats.PacketsSent++
	c.stats.MTUProbesSent++
	c.stats.BytesSent += uint64(len(out))
	p.bytesSent += uint64(len(out))
	c.app.sentInPhase++
	c.live.lastSent = now
	if p.mp != nil {
		p.mp.lastEliciting = now
	}
	if d := p.rec.PacingDelay(now, len(out)); d > 0 {
		p.pacedUntil = now.Add(d)
	}
	return len(out)
}

// mtuTimer reports when p's next search starts, if it waits.
func (c *Conn) mtuTimer(p *path, consider func(time.Time)) {
	if m := p.mtu; m.enabled && m.phase == mtuDone && m.next.After(c.live.lastPoll) && c.mtuEligible(p) {
		consider(m.next)
	}
}

// onAppPacketAcked feeds an acknowledged 1-RTT packet of p to PMTUD.
func (p *path) onAppPacketAcked(sp *recovery.SentPacket[*sentRecord]) {
	if mtu, ok := p.mtu.onAcked(sp.Number, sp.Size); ok {
		p.rec.SetMaxDatagramSize(mtu)
	}
}

// onAppPacketsLost feeds lost 1-RTT packets of p to PMTUD and falls back
// to the minimum MTU on a black hole.
func (c *Conn) onAppPacketsLost(now time.Time, p *path, lost []recovery.SentPacket[*sentRecord]) {
	if len(lost) == 0 {
		return
	}
	for i := range lost {
		sp := &lost[i]
		if sp.MTUProbe {
			p.mtu.onProbeLost(sp.Number)
			c.stats.MTUProbesLost++
			continue
		}
		p.mtu.bh.onLost(sp.Number, sp.Size)
	}
	if p.mtu.blackHole(now) {
		c.stats.BlackHoles++
		p.rec.SetMaxDatagramSize(MinMTU)
		c.dgrams.dropLargerThan(c.maxDatagramPayload())
	}
}
