package core

import (
	"io"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Connection migration on a single-path server (RFC 9000 §9): when the
// client's newest packet comes from a new address (NAT rebinding, or a
// client that moved), the server follows it at once but treats the new
// address as unvalidated: it challenges it, sends at most three times what
// it received from there, and goes back to the old address if no
// PATH_RESPONSE arrives within three PTOs. Under multipath, paths the
// client opens replace this.

// migration is the state of a peer address change not yet validated.
type migration struct {
	prevAddr     Addr // the last validated address, to revert to
	prevCC       recovery.CongestionState
	prevMTU      mtuDiscovery
	ccReset      bool // the new address is another host: state was reset
	challenge    [8]byte
	challengeOut bool      // a PATH_CHALLENGE must be sent
	challengeAt  time.Time // when the outstanding challenge counts as lost
	validateBy   time.Time // revert then
}

// timer is the migration's next deadline.
func (m *migration) timer() time.Time {
	t := m.validateBy
	if !m.challengeOut && !m.challengeAt.IsZero() && m.challengeAt.Before(t) {
		t = m.challengeAt
	}
	return t
}

// offPathResponse is a PATH_RESPONSE owed to an address that is not the
// path's current one: it goes back where the challenge came from.
type offPathResponse struct {
	to   Addr
	data [8]byte
	recv int // bytes received from to, which bound what we may send there
}

// maxOffPathResponses caps the queue an attacker could fill.
const maxOffPathResponses = 4

// sameHost reports whether a and b differ at most in the UDP port, which
// is what a NAT rebinding looks like (RFC 9000 §9.4).
func sameHost(a, b Addr) bool {
	if a.IsRelay() || b.IsRelay() {
		return a == b
	}
	return a.UDP.Addr() == b.UDP.Addr()
}

// onPeerAddressChange handles an authenticated non-probing packet with the
// largest packet number so far arriving in rx from a new address.
func (c *Conn) onPeerAddressChange(now time.Time, p *path, rx *rxDatagram) {
	from := rx.from
	if m := p.mig; m != nil && from == m.prevAddr {
		// Back at the validated address: the other one was a detour (or a
		// forged copy that raced ahead); no need to validate again.
		p.revertMigration()
		c.stats.MigrationsReverted++
		return
	}
	oldPTO := p.rec.ProbeTimeout()
	if p.mig == nil {
		p.mig = &migration{prevAddr: p.addr, prevMTU: *p.mtu}
	}
	m := p.mig
	if !m.ccReset && !sameHost(m.prevAddr, from) {
		// Another host: what we learnt about the old path says nothing
		// about this one (RFC 9000 §9.4).
		m.prevCC = p.rec.ResetCongestion()
		m.ccReset = true
		p.mtu.reset()
		p.rec.SetMaxDatagramSize(MinMTU)
	}
	p.addr = from
	p.validated = false
	p.bytesRecv, p.bytesSent = uint64(rx.size), 0
	p.pacedUntil = time.Time{}
	io.ReadFull(c.rand, m.challenge[:])
	m.challengeOut, m.challengeAt = true, time.Time{}
	// Three PTOs of the slower of the old and new estimates (RFC 9000 §8.2.4).
	m.validateBy = now.Add(3 * max(oldPTO, p.rec.ProbeTimeout()))
	// A challenge in the packet that moved us is now answered on-path.
	kept := p.offPath[:0]
	for _, r := range p.offPath {
		if r.to == from && len(p.responses) < 4 {
			p.responses = append(p.responses, r.data)
			continue
		}
		kept = append(kept, r)
	}
	p.offPath = kept
}

// revertMigration returns p to its last validated address.
func (p *path) revertMigration() {
	m := p.mig
	p.mig = nil
	p.addr = m.prevAddr
	p.validated = true
	p.pacedUntil = time.Time{}
	if m.ccReset {
		p.rec.RestoreCongestion(m.prevCC)
		*p.mtu = m.prevMTU
		p.rec.SetMaxDatagramSize(p.mtu.current)
	}
}

// onMigrationResponse completes validation when data answers our
// challenge; a PATH_RESPONSE validates whichever path it arrives on.
func (c *Conn) onMigrationResponse(data [8]byte) {
	for _, p := range c.paths {
		if m := p.mig; m != nil && m.challenge == data {
			p.mig = nil
			p.validated = true
			c.stats.Migrations++
		}
	}
}

// migrationTimeout resends a lost challenge and reverts a migration that
// was not validated in time; it reports whether it reverted.
func (p *path) migrationTimeout(now time.Time) bool {
	m := p.mig
	if m == nil {
		return false
	}
	if !now.Before(m.validateBy) {
		p.revertMigration()
		return true
	}
	if !m.challengeOut && !m.challengeAt.IsZero() && !now.Before(m.challengeAt) {
		m.challengeOut = true
	}
	return false
}

// appendMigrationChallenge adds p's owed PATH_CHALLENGE to a packet.
func (p *path) appendMigrationChallenge(now time.Time, add func(*wire.Frame) bool, rec *sentRecord) bool {
	m := p.mig
	if m == nil || !m.challengeOut || !add(&wire.Frame{Type: wire.FramePathChallenge, PathData: m.challenge}) {
		return false
	}
	m.challengeOut = false
	m.challengeAt = now.Add(p.rec.ProbeTimeout())
	rec.validatesPath = true
	return true
}

// queueOffPathResponse remembers a PATH_CHALLENGE that arrived in rx from
// an address other than p's: the answer goes back there.
func (p *path) queueOffPathResponse(rx *rxDatagram, data [8]byte) {
	if len(p.offPath) >= maxOffPathResponses {
		return
	}
	p.offPath = append(p.offPath, offPathResponse{to: rx.from, data: data, recv: rx.size})
}

// pollOffPath sends the next owed off-path PATH_RESPONSE, padded to 1200
// bytes only where three times what that address sent us allows it.
func (c *Conn) pollOffPath(now time.Time, p *path, buf []byte) (int, Addr) {
	for len(p.offPath) > 0 {
		r := p.offPath[0]
		p.offPath = p.offPath[1:]
		if !c.app.canWrite || !p.remote.usable() {
			continue
		}
		frames := []wire.Frame{{Type: wire.FramePathResponse, PathData: r.data}}
		n := c.sendProbePacket(now, p, r.to, frames, offPathPadding(r.recv), buf)
		if n > 0 {
			return n, r.to
		}
	}
	return 0, Addr{}
}
