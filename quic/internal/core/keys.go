package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/protection"
)

// levelKeys are the Initial or Handshake keys of both directions.
type levelKeys struct {
	read, write protection.Keys
	canRead     bool
	canWrite    bool
	discarded   bool
}

func initialLevelKeys(side Side, dcid []byte) levelKeys {
	client, server := protection.InitialKeys(dcid)
	if side == Client {
		return levelKeys{read: server, write: client, canRead: true, canWrite: true}
	}
	return levelKeys{read: client, write: server, canRead: true, canWrite: true}
}

// appKeys are the 1-RTT keys with their key phases (RFC 9001 §6).
type appKeys struct {
	readHP, writeHP *protection.HeaderKey
	read, write     *protection.PacketKeys
	next            *protection.PacketKeys // read keys of the next phase, ready for the peer's update
	prev            *protection.PacketKeys // read keys of the previous phase, kept for reordering
	prevUntil       time.Time
	awaitPeer       bool // we updated; prev stays until the peer sends in the new phase
	canRead         bool
	canWrite        bool
	phase           bool   // current key phase bit
	generation      uint64 // key updates so far; sent packets remember it
	sentInPhase     uint64
	phaseAcked      bool      // a packet of ours from this phase was acknowledged
	phaseAckedAt    time.Time // when that first happened
	forceUpdate     bool      // ForceKeyUpdate asked for one update now
}

// open decrypts in place a 1-RTT payload received on path p, following the peer
// into a new key phase when the phase bit flips. It returns whether a key
// update happened (rotating all paths). Packet numbers are per path, so the "before this phase"
// bookkeeping is too; the key phase is the connection's.
func (a *appKeys) open(p *path, header, ct []byte, pn uint64, phase bool, now time.Time, paths pathList) ([]byte, bool, error) {
	dst := ct[:0]
	pathID := uint32(p.id)
	if phase == a.phase {
		out, err := a.read.OpenPath(dst, header, ct, pathID, pn)
		if err == nil && (!p.recvInPhase || pn < p.firstRecvPN) {
			p.firstRecvPN, p.recvInPhase = pn, true
		}
		if err == nil && a.awaitPeer {
			// The peer follows our update: the old keys serve only
			// reordered packets from now on (RFC 9001 §6.5).
			a.awaitPeer = false
			a.prevUntil = now.Add(3 * paths.primary().rec.ProbeTimeout())
		}
		return out, false, err
	}
	// A packet from before the current phase began uses the previous keys.
	// Until the peer sends in the phase we moved to, everything in the old
	// phase is such a packet.
	if a.prev != nil && (!p.recvInPhase || pn < p.firstRecvPN) {
		if p.recvInPhase {
			out, err := a.prev.OpenPath(dst, header, ct, pathID, pn)
			return out, false, err
		}
		// Nothing received on p in this phase yet (a path the peer just
		// opened): the flipped bit is the previous phase, reordered, or
		// the peer's next one, if it updated before opening p. Try both;
		// a failed open may clobber its buffer, so the second try gets a
		// copy.
		saved := append([]byte(nil), ct...)
		if out, err := a.prev.OpenPath(dst, header, ct, pathID, pn); err == nil {
			return out, false, nil
		}
		copy(ct, saved)
	}
	out, err := a.next.OpenPath(dst, header, ct, pathID, pn)
	if err != nil {
		return nil, false, err
	}
	if err := a.rotate(now, paths, true); err != nil {
		return nil, false, err
	}
	p.firstRecvPN, p.recvInPhase = pn, true
	return out, true, nil
}

// rotate moves both directions to the next key phase, either because
// the peer updated (byPeer) or because we initiate.
func (a *appKeys) rotate(now time.Time, paths pathList, byPeer bool) error {
	nextWrite, err := a.write.Next()
	if err != nil {
		return err
	}
	nextNext, err := a.next.Next()
	if err != nil {
		return err
	}
	a.prev, a.read, a.next = a.read, a.next, nextNext
	a.write = nextWrite
	a.phase = !a.phase
	a.generation++
	a.sentInPhase = 0
	a.phaseAcked, a.phaseAckedAt = false, time.Time{}
	for _, p := range paths {
		p.recvInPhase = false
	}
	a.forceUpdate = false
	// Keep the old read keys for three PTOs after the first packet in the
	// new phase (RFC 9001 §6.5): now if the peer updated, else once it
	// follows. Dropped earlier, a peer that has not seen our update yet
	// (our packets lost) could no longer be read at all.
	a.prevUntil, a.awaitPeer = time.Time{}, !byPeer
	if byPeer {
		a.prevUntil = now.Add(3 * paths.primary().rec.ProbeTimeout())
	}
	return nil
}

// dropPrev forgets the previous phase's read keys once their three PTOs
// are over.
func (a *appKeys) dropPrev(now time.Time) {
	if a.prev != nil && !a.prevUntil.IsZero() && !now.Before(a.prevUntil) {
		a.prev = nil
		a.prevUntil = time.Time{}
	}
}

// ForceKeyUpdate starts one 1-RTT key update as soon as it is allowed; the
// configured interval applies again afterwards.
func (c *Conn) ForceKeyUpdate() { c.app.forceUpdate = true }
