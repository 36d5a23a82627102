package core

import (
	"errors"
	"io"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Multipath (draft-ietf-quic-multipath as noq implements it): each path ID
// has its own connection IDs, its own 1-RTT packet-number space and nonce,
// and PATH_ACKs replace ACKs in 1-RTT. Only the client opens paths.

// PathID identifies a multipath path; 0 is the path of the handshake.
type PathID uint64

// PathStatus is a path's preference for carrying application data.
type PathStatus uint8

const (
	// PathAvailable paths carry data.
	PathAvailable PathStatus = iota
	// PathBackup paths carry data only when no Available path is usable.
	PathBackup
)

func (s PathStatus) String() string {
	if s == PathBackup {
		return "backup"
	}
	return "available"
}

// Multipath defaults, iroh's.
const (
	// InitialMaxPathID is what we advertise: 8 concurrent paths.
	InitialMaxPathID = 7
	// DefaultPathIdleTimeout abandons a path silent for this long.
	DefaultPathIdleTimeout = 15 * time.Second
	// maxPathCIDs caps how many CIDs we issue per path (noq: 12).
	maxPathCIDs = 12
	// pathNoViableRTT seeds the grace period after the last path is gone:
	// the estimate of the abandoned path no longer applies.
	pathNoViableRTT = 333 * time.Millisecond
)

// PATH_ABANDON error codes and the multipath transport error.
const (
	ApplicationAbandonPath   = 0x3e
	PathResourceLimitReached = 0x3e75
	PathUnstableOrPoor       = 0x3e76
	NoCIDAvailableForPath    = 0x3e77
	noViablePathCode         = 0x10
)

// Errors of the path API.
var (
	ErrMultipathNotNegotiated = errors.New("quic: multipath not negotiated")
	ErrServerCannotOpenPath   = errors.New("quic: only the client opens paths")
	ErrPathLimit              = errors.New("quic: peer's path ID limit reached")
	ErrPathCIDsBlocked        = errors.New("quic: no connection ID from the peer for the next path")
	ErrUnknownPath            = errors.New("quic: no such open path")
	ErrLastPath               = errors.New("quic: cannot close the last open path")
	ErrNoViablePath           = errors.New("quic: no viable path")
)

// PathInfo describes one path for Paths.
type PathInfo struct {
	ID           PathID
	Addr         Addr
	Status       PathStatus // our status for the path
	RemoteStatus PathStatus // the peer's, Available until it says otherwise
	Validated    bool       // PATH_RESPONSE arrived (path 0: always)
	Abandoned    bool
	RTT          time.Duration
}

// multipath is the connection-wide multipath state, present once both
// sides advertised initial_max_path_id and the handshake completed.
type multipath struct {
	localMax, remoteMax uint64
	peerRechecks        uint64 // PeerRechecks
	sets                []*pathCIDs
	nextOpen            uint64 // client: the next path ID to open
	maxPathIDOut        bool   // MAX_PATH_ID owed
	pathsBlockedOut     bool
	cidsBlockedOut      []pathSeq
	abandonsOut         []pathAbandon
	statusOut           []uint64 // path IDs whose PATH_STATUS is owed
	noViableAt          time.Time
	dropRemote          []uint64 // paths whose PATH_ABANDON was just written
	pathIdle            time.Duration
}

type pathAbandon struct{ path, code uint64 }

// pathCIDs are the CID sets of one path ID, which exist before (and a
// little after) the path itself.
type pathCIDs struct {
	id        uint64
	local     *localCIDs
	remote    *remoteCIDs
	abandoned bool
}

// recordMP is what a 1-RTT packet carried of the multipath frames.
type recordMP struct {
	acks     []pathSeq // PATH_ACK: path and largest acknowledged
	status   []uint64
	abandons []pathAbandon
	maxPath  bool
	nat      *recordNAT
}

func (r *recordMP) reset() {
	r.acks, r.status, r.abandons, r.maxPath = r.acks[:0], r.status[:0], r.abandons[:0], false
	if r.nat != nil {
		r.nat.adds, r.nat.dels, r.nat.reach = r.nat.adds[:0], r.nat.dels[:0], r.nat.reach[:0]
	}
}

// startMultipath returns the multipath state (and makes p0 path 0) once
// the handshake is complete, if both sides advertised
// initial_max_path_id; nil otherwise. lastSent is when we last sent.
func startMultipath(cfg *Config, peer *wire.TransportParameters, p0 *path, now, lastSent time.Time) *multipath {
	if !cfg.Multipath || !peer.HasInitialMaxPathID {
		return nil
	}
	m := &multipath{
		localMax:  InitialMaxPathID,
		remoteMax: peer.InitialMaxPathID,
		nextOpen:  1,
		pathIdle:  cfg.PathIdleTimeout,
	}
	if m.pathIdle == 0 {
		m.pathIdle = DefaultPathIdleTimeout
	}
	m.sets = []*pathCIDs{{id: 0, local: p0.local, remote: p0.remote}}
	p0.mp = &pathMP{usable: true, lastRecv: now, lastEliciting: lastSent}
	return m
}

// Multipath reports whether multipath was negotiated.
func (c *Conn) Multipath() bool { return c.mp != nil }

// maxPathID is the highest path ID either side may use now.
func (m *multipath) maxPathID() uint64 { return min(m.localMax, m.remoteMax) }

func (m *multipath) set(id uint64) *pathCIDs {
	for _, s := range m.sets {
		if s.id == id {
			return s
		}
	}
	return nil
}

// ensureSet returns the CID sets of id, creating them; new local CIDs
// come from rand with tokens from key.
func (m *multipath) ensureSet(id uint64, rand io.Reader, key *ResetKey) *pathCIDs {
	if s := m.set(id); s != nil {
		return s
	}
	s := &pathCIDs{id: id, local: newPathLocalCIDs(rand, key), remote: &remoteCIDs{limit: DefaultActiveCIDLimit}}
	i := len(m.sets)
	for i > 0 && m.sets[i-1].id > id {
		i--
	}
	m.sets = append(m.sets, nil)
	copy(m.sets[i+1:], m.sets[i:])
	m.sets[i] = s
	return s
}

// retireSet retires every CID of a drained path and returns ours. The
// entry stays, marked abandoned, so a late frame cannot bring the path ID
// back. ok is false when the path ID had no sets.
func (m *multipath) retireSet(id uint64) (retired [][LocalCIDLen]byte, ok bool) {
	s := m.set(id)
	if s == nil {
		return nil, false
	}
	retired = s.local.ids()
	s.abandoned = true
	s.local.active, s.local.pending = nil, nil
	s.remote.ids = nil
	return retired, true
}

// localCIDsOf returns our CIDs for a path ID, or nil.
func (c *Conn) localCIDsOf(id uint64) *localCIDs {
	if c.mp == nil {
		if id == 0 {
			return c.paths[0].local
		}
		return nil
	}
	if s := c.mp.set(id); s != nil {
		return s.local
	}
	return nil
}

// issueCIDs tops up every path ID with CIDs, up to the peer's limit,
// and emits each new one.
func (m *multipath) issueCIDs(limit uint64, rand io.Reader, key *ResetKey, emit func(Event)) {
	n := int(min(limit, maxPathCIDs))
	for id := uint64(0); id <= m.maxPathID(); id++ {
		s := m.ensureSet(id, rand, key)
		if s.abandoned {
			continue
		}
		ids, _ := s.local.issue(n)
		for _, cid := range ids {
			emit(Event{Kind: EventNewCID, CID: cid})
		}
	}
}

// pathForDCID finds the path a short-header packet belongs to; create is
// the path ID whose CID it carries when no path exists for it yet.
func (m *multipath) pathForDCID(paths pathList, dcid []byte) (p *path, create *pathCIDs) {
	if p := paths.withLocalCID(dcid); p != nil {
		return p, nil
	}
	for _, s := range m.sets {
		if !s.abandoned && s.local.contains(dcid) && paths.byID(s.id) == nil {
			return nil, s
		}
	}
	return nil, nil
}

// OpenPath starts a new path to addr (client only). It returns at once;
// EventPathValidated or EventPathAbandoned tells how it went.
func (c *Conn) OpenPath(now time.Time, addr Addr) (PathID, error) {
	if err := c.usable(); err != nil {
		return 0, err
	}
	if c.mp == nil {
		return 0, ErrMultipathNotNegotiated
	}
	if c.side == Server {
		return 0, ErrServerCannotOpenPath
	}
	id := c.mp.nextOpen
	if id > c.mp.maxPathID() {
		c.mp.pathsBlockedOut = true
		return 0, ErrPathLimit
	}
	s := c.mp.set(id)
	if s == nil || !s.remote.usable() {
		c.mp.cidsBlockedOut = append(c.mp.cidsBlockedOut, pathSeq{path: id})
		return 0, ErrPathCIDsBlocked
	}
	return c.openPath(now, addr, PathAvailable), nil
}

// openPath creates the next client path; OpenPath checked it may.
func (c *Conn) openPath(now time.Time, addr Addr, status PathStatus) PathID {
	id := c.mp.nextOpen
	s := c.mp.set(id)
	if id > c.mp.maxPathID() || s == nil || !s.remote.usable() {
		return 0
	}
	c.mp.nextOpen++
	p := newAppPath(id, addr, c.side, c.cfg.InitialRTT, now)
	p.mtu.enabled = !c.cfg.DisablePMTUD
	if status == PathBackup {
		p.mp.status, p.mp.statusSeq = PathBackup, 1
	}
	p.local, p.remote = s.local, s.remote
	p.rec.SetPeerMaxAckDelay(time.Duration(c.params.peer.MaxAckDelay) * time.Millisecond)
	p.mp.startChallenge(c.rand, now, p.rec.ProbeTimeout())
	c.paths.insert(p)
	c.mp.statusOut = append(c.mp.statusOut, id)
	c.mp.noViableAt = time.Time{}
	return PathID(id)
}

// ClosePath abandons a path with a PATH_ABANDON error code.
func (c *Conn) ClosePath(now time.Time, id PathID, code uint64) error {
	if c.mp == nil {
		return ErrMultipathNotNegotiated
	}
	p := c.paths.byID(uint64(id))
	if p == nil || p.mp.abandoned {
		return ErrUnknownPath
	}
	if c.paths.live() == 1 {
		return ErrLastPath
	}
	c.abandonPath(now, p, code, false)
	return nil
}

// SetPathStatus marks a path Available or Backup and tells the peer.
func (c *Conn) SetPathStatus(id PathID, available bool) error {
	if c.mp == nil {
		return ErrMultipathNotNegotiated
	}
	p := c.paths.byID(uint64(id))
	if p == nil || p.mp.abandoned {
		return ErrUnknownPath
	}
	st := PathBackup
	if available {
		st = PathAvailable
	}
	if p.mp.status == st {
		return nil
	}
	p.mp.status = st
	p.mp.statusSeq++
	c.mp.queueStatus(p.id)
	return nil
}

// queueStatus owes the PATH_STATUS of path id.
func (m *multipath) queueStatus(id uint64) {
	for _, q := range m.statusOut {
		if q == id {
			return
		}
	}
	m.statusOut = append(m.statusOut, id)
}

// Paths describes every path the connection has.
func (c *Conn) Paths() []PathInfo {
	out := make([]PathInfo, 0, len(c.paths))
	for _, p := range c.paths {
		pi := PathInfo{ID: PathID(p.id), Addr: p.addr, Validated: true, RTT: p.rec.RTT().Smoothed()}
		if m := p.mp; m != nil {
			pi.Status, pi.Validated, pi.Abandoned = m.status, m.usable, m.abandoned
			if m.haveRemoteStatus {
				pi.RemoteStatus = m.remoteStatus
			}
		}
		out = append(out, pi)
	}
	return out
}

// abandonPath stops using p and queues PATH_ABANDON. remote says the peer
// abandoned it first.
func (c *Conn) abandonPath(now time.Time, p *path, code uint64, remote bool) {
	m := p.mp
	if m.abandoned {
		return
	}
	m.abandoned, m.challengeOut, m.ping = true, false, false
	p.responses = nil
	if s := c.mp.set(p.id); s != nil {
		s.abandoned = true
		s.local.pending = nil
	}
	c.mp.abandonsOut = append(c.mp.abandonsOut, pathAbandon{path: p.id, code: code})
	c.emit(Event{Kind: EventPathAbandoned, Path: PathID(p.id), Code: code, Remote: remote})
	if c.paths.live() == 0 {
		// Give the application 3 PTOs to open a replacement path.
		rtt := recovery.NewRTT(pathNoViableRTT)
		c.mp.noViableAt = now.Add(3 * (rtt.PTO() + time.Duration(c.params.peer.MaxAckDelay)*time.Millisecond))
	}
}

// discardPath forgets a drained path, unless it is the last one left.
func (c *Conn) discardPath(now time.Time, p *path) {
	if len(c.paths) == 1 {
		return
	}
	for _, sp := range p.rec.DiscardSpace(recovery.AppData, now) {
		c.onRecordLost(sp.Payload)
	}
	c.paths.remove(p)
	if retired, ok := c.mp.retireSet(p.id); ok {
		for _, cid := range retired {
			c.emit(Event{Kind: EventRetiredCID, CID: cid})
		}
		c.cids.tokensChanged = true
	}
}

// raiseLocalMax allows the peer path IDs up to v and reports whether that
// is more than before (then CIDs for the new IDs are owed).
func (m *multipath) raiseLocalMax(v uint64) bool {
	if v <= m.localMax || v > wire.MaxPathID {
		return false
	}
	m.localMax = v
	m.maxPathIDOut = true
	return true
}

func (c *Conn) onRecordAckedMP(r *recordMP) {
	for _, a := range r.acks {
		if p := c.paths.byID(a.path); p != nil {
			p.rec.Acks(recovery.AppData).OnAckAcked(a.seq)
		}
	}
}

func (c *Conn) onRecordLostMP(r *recordMP) {
	if c.mp == nil {
		return
	}
	for _, id := range r.status {
		if p := c.paths.byID(id); p != nil && !p.mp.abandoned {
			c.mp.queueStatus(id)
		}
	}
	for _, a := range r.abandons {
		// Resend also for a path already discarded here: the peer may
		// still use it, and ignores an abandon of a path it has dropped.
		if p := c.paths.byID(a.path); p == nil || !p.mp.draining {
			c.mp.abandonsOut = append(c.mp.abandonsOut, a)
		}
	}
	if r.maxPath {
		c.mp.maxPathIDOut = true
	}
	if r.nat != nil && c.nat != nil {
		c.nat.onLost(r.nat)
	}
}
