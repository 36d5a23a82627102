package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// path is everything that belongs to one network path: its address, its
// loss recovery and congestion state, and the anti-amplification budget
// while the peer's address is unvalidated.
type path struct {
	id   uint64 // multipath path ID; 0 for the handshake path
	addr Addr
	// Connection IDs belong to a path: with multipath each path ID has its
	// own sets (PATH_NEW_CONNECTION_ID); without it path 0 holds them all.
	local     *localCIDs
	remote    *remoteCIDs
	rec       *recovery.Path[*sentRecord]
	validated bool
	// Anti-amplification (RFC 9000 §8.1): a server sends at most three
	// times what it received on an unvalidated path.
	bytesRecv, bytesSent uint64
	pacedUntil           time.Time
	// responses are PATH_RESPONSE payloads owed on this path.
	responses [][8]byte
	// offPath are PATH_RESPONSEs owed to other addresses (single path).
	offPath []offPathResponse
	// Key-phase bookkeeping is per packet-number space, so per path.
	firstRecvPN uint64 // lowest packet number received in this key phase
	recvInPhase bool
	// mp is the multipath-only state; nil on a single-path connection.
	mp *pathMP
	// mtu is the path's MTU discovery; mig a migration being validated.
	mtu *mtuDiscovery
	mig *migration
}

func newPath(addr Addr, side Side, initialRTT time.Duration) *path {
	return &path{
		addr:      addr,
		validated: side == Client, // the client chose the address
		mtu:       newMTUDiscovery(false, MinMTU),
		rec: recovery.NewPath[*sentRecord](recovery.Config{
			InitialRTT: initialRTT,
			IsServer:   side == Server,
		}),
	}
}

// newAppPath creates a multipath path after the handshake: it has only the
// application-data packet-number space, starting at 0.
func newAppPath(id uint64, addr Addr, side Side, initialRTT time.Duration, now time.Time) *path {
	return &path{
		id:        id,
		addr:      addr,
		validated: side == Client,
		rec: recovery.NewPath[*sentRecord](recovery.Config{
			InitialRTT:  initialRTT,
			IsServer:    side == Server,
			AppDataOnly: true,
		}),
		mp:  &pathMP{lastRecv: now},
		mtu: newMTUDiscovery(false, MinMTU),
	}
}

// amplificationBudget is how many more bytes the path may carry now.
func (p *path) amplificationBudget() int {
	if p.validated {
		return 1 << 30
	}
	limit := 3 * p.bytesRecv
	if p.bytesSent >= limit {
		return 0
	}
	return int(limit - p.bytesSent)
}

// sentRecord remembers what a packet carried that must be resent if it is
// lost or released when it is acknowledged.
type sentRecord struct {
	level         level
	crypto        []cryptoRange
	streams       []streams.Frame
	newCIDs       []pathSeq
	retireCIDs    []pathSeq
	handshakeDone bool
	// validatesPath: it carries a PATH_CHALLENGE (or, under multipath, a
	// PATH_RESPONSE), so its datagram is padded (RFC 9000 §8.2.1).
	validatesPath bool
	ackLargest    int64  // largest acknowledged of an ACK frame in it, or -1
	keyGen        uint64 // 1-RTT key generation the packet was sealed with
	mp            *recordMP
	observed      bool // an OBSERVED_ADDRESS about observedPath
	observedPath  uint64
}

// pathSeq names a connection ID by path and sequence number; without
// multipath the path is always 0.
type pathSeq struct {
	path, seq uint64
}

type cryptoRange struct{ off, n uint64 }

// recordPool recycles sentRecords, which every packet needs.
type recordPool struct{ free []*sentRecord }

func (rp *recordPool) get(l level) *sentRecord {
	var r *sentRecord
	if n := len(rp.free); n > 0 {
		r = rp.free[n-1]
		rp.free = rp.free[:n-1]
	} else {
		r = new(sentRecord)
	}
	r.level = l
	r.ackLargest = -1
	return r
}

func (rp *recordPool) put(r *sentRecord) {
	if r == nil {
		return
	}
	r.crypto = r.crypto[:0]
	r.streams = r.streams[:0]
	r.newCIDs = r.newCIDs[:0]
	r.retireCIDs = r.retireCIDs[:0]
	r.handshakeDone = false
	r.validatesPath = false
	r.observed = false
	if r.mp != nil {
		r.mp.reset()
	}
	if len(rp.free) < 1024 {
		rp.free = append(rp.free, r)
	}
}

// onRecordAcked releases what an acknowledged packet carried.
func (c *Conn) onRecordAcked(r *sentRecord, now time.Time) {
	for _, cr := range r.crypto {
		c.crypto[r.level].send.onAcked(cr.off, cr.n)
	}
	for _, f := range r.streams {
		c.streams.OnAcked(f)
	}
	if len(r.streams) > 0 {
		c.ackProgress = true
	}
	if r.ackLargest >= 0 {
		c.paths[0].rec.Acks(r.level.space()).OnAckAcked(uint64(r.ackLargest))
	}
	c.cids.onRetiresAcked(r.retireCIDs)
	if r.handshakeDone && c.nat != nil && c.nat.server != nil {
		c.onPeerConfirmed(now)
	}
	if r.mp != nil {
		c.onRecordAckedMP(r.mp)
	}
	if r.level == levelApp && r.keyGen == c.app.generation && !c.app.phaseAcked {
		c.app.phaseAcked, c.app.phaseAckedAt = true, now
	}
	c.records.put(r)
}

// onRecordLost queues again what a lost packet carried.
func (c *Conn) onRecordLost(r *sentRecord) {
	c.stats.PacketsLost++
	for _, cr := range r.crypto {
		c.crypto[r.level].send.onLost(cr.off, cr.n)
	}
	for _, f := range r.streams {
		c.streams.OnLost(f)
	}
	for _, ps := range r.newCIDs {
		if l := c.localCIDsOf(ps.path); l != nil {
			if _, ok := l.lookup(ps.seq); ok {
				l.pending = append(l.pending, ps.seq)
			}
		}
	}
	c.cids.retireOut = append(c.cids.retireOut, r.retireCIDs...)
	if r.handshakeDone {
		c.handshakeOut = true
	}
	if r.observed {
		c.onObservedLost(r.observedPath)
	}
	if r.mp != nil {
		c.onRecordLostMP(r.mp)
	}
	c.records.put(r)
}
