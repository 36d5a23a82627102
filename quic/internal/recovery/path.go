package recovery

import (
	"errors"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/congestion"
)

// Space is a packet-number space. On paths other than the first only
// AppData exists (multipath gives each path its own application-data
// space; Initial and Handshake live on path 0).
type Space uint8

// Packet-number spaces in the order PTO considers them.
const (
	Initial Space = iota
	Handshake
	AppData
	numSpaces
)

func (s Space) String() string {
	switch s {
	case Initial:
		return "initial"
	case Handshake:
		return "handshake"
	case AppData:
		return "appdata"
	}
	return "invalid"
}

// Errors returned for bad input. The ACK errors map to the transport error
// PROTOCOL_VIOLATION (RFC 9000 §13.1) or FRAME_ENCODING_ERROR for malformed
// ranges.
var (
	ErrInvalidSpace         = errors.New("recovery: invalid packet number space")
	ErrSpaceDiscarded       = errors.New("recovery: packet number space discarded")
	ErrPacketNumberReused   = errors.New("recovery: packet number not above the last one sent")
	ErrInvalidAckRanges     = errors.New("recovery: ACK ranges empty, overlapping or not descending")
	ErrAckOfUnsentPacket    = errors.New("recovery: ACK for a packet number never sent")
	ErrAckOfSkippedPacket   = errors.New("recovery: ACK for a skipped packet number")
	ErrPacketNumberOverflow = errors.New("recovery: packet number space exhausted")
)

// maxPacketNumber is the largest packet number QUIC can encode (2^62−1).
const maxPacketNumber = 1<<62 - 1

// Config sets up a Path. Zero values select defaults.
type Config struct {
	// InitialRTT seeds the estimator (DefaultInitialRTT).
	InitialRTT time.Duration
	// PeerMaxAckDelay is the peer's max_ack_delay transport parameter
	// (DefaultMaxAckDelay until known; see SetPeerMaxAckDelay).
	PeerMaxAckDelay time.Duration
	// MaxAckDelay is our own max_ack_delay, used when generating ACKs
	// (LocalMaxAckDelay).
	MaxAckDelay time.Duration
	// AckElicitingThreshold forces an ACK after this many ack-eliciting
	// packets (DefaultAckElicitingThreshold).
	AckElicitingThreshold int
	// MaxAckRanges caps remembered ACK ranges per space
	// (DefaultMaxAckRanges).
	MaxAckRanges int
	// MaxDatagramSize is the path's current datagram size (1200).
	MaxDatagramSize int
	// Congestion is the path's controller (CUBIC, iroh's default).
	Congestion congestion.Controller
	// IsServer: a server has always "completed address validation" of its
	// peer from the peer's point of view (RFC 9002 §6.2.2.1).
	IsServer bool
	// AppDataOnly creates a path for an already confirmed handshake, with
	// only the application-data space (every multipath path but the first).
	AppDataOnly bool
}

// RFC 9002 thresholds.
const (
	packetThreshold               = 3 // kPacketThreshold
	persistentCongestionThreshold = 3 // kPersistentCongestionThreshold
	maxPTOBackoffShift            = 20
	probesPerPTO                  = 2
)

type spaceState[T any] struct {
	sent      sentHistory[T]
	acks      AckTracker
	discarded bool

	nextPN          uint64
	hasLargestAcked bool
	largestAcked    uint64

	lossTime             time.Time // earliest time-threshold loss, zero if none
	lastAckElicitingSent time.Time

	// skipped remembers recently skipped packet numbers; an ACK naming one
	// proves the peer acknowledges packets it never saw.
	skipped  [4]uint64
	nSkipped int

	ecnSeen ECNCounts
	probes  int // PTO probes still owed in this space

	// unrepaired is when an ack-eliciting packet was last declared lost,
	// until a packet sent after that is acknowledged (handshakeProbeFor).
	unrepaired time.Time
	reorder    uint64 // packet threshold learnt from spurious losses
}

// Path is the loss-recovery, ACK and congestion state of one network path.
// T is the caller's per-packet payload handle (see SentPacket).
type Path[T any] struct {
	cfg    Config
	rtt    RTT
	cc     congestion.Controller
	pacer  congestion.Pacer
	mds    int
	spaces [numSpaces]spaceState[T]

	ptoCount             int
	handshakeConfirmed   bool
	handshakeKeys        bool
	handshakeAcked       bool
	amplificationBlocked bool
	appLimited           bool

	timer Timer // the loss detection timer
	spur  spuriousLosses

	// Result buffers reused by every call; results alias them.
	acked, lost []SentPacket[T]
}

// NewPath returns the recovery state for a new path.
func NewPath[T any](cfg Config) *Path[T] {
	if cfg.PeerMaxAckDelay <= 0 {
		cfg.PeerMaxAckDelay = DefaultMaxAckDelay
	}
	if cfg.MaxDatagramSize <= 0 {
		cfg.MaxDatagramSize = congestion.InitialMaxDatagramSize
	}
	p := &Path[T]{cfg: cfg, rtt: NewRTT(cfg.InitialRTT), mds: cfg.MaxDatagramSize, cc: cfg.Congestion}
	if p.cc == nil {
		p.cc = congestion.NewCubic(p.mds)
	}
	for s := range numSpaces {
		// ACKs in Initial and Handshake must never be delayed.
		p.spaces[s].acks.init(cfg.MaxAckDelay, cfg.AckElicitingThreshold, cfg.MaxAckRanges, s != AppData)
	}
	if cfg.AppDataOnly {
		p.spaces[Initial].discarded = true
		p.spaces[Handshake].discarded = true
		p.handshakeConfirmed = true
	}
	return p
}

func (p *Path[T]) space(s Space) (*spaceState[T], error) {
	if s >= numSpaces {
		return nil, ErrInvalidSpace
	}
	sp := &p.spaces[s]
	if sp.discarded {
		return nil, ErrSpaceDiscarded
	}
	return sp, nil
}

// NextPacketNumber returns the packet number the next packet in s must use.
func (p *Path[T]) NextPacketNumber(s Space) uint64 {
	if s >= numSpaces {
		return 0
	}
	return p.spaces[s].nextPN
}

// SkipPacketNumber consumes the next packet number without sending it, as
// a defence against optimistic ACKs (RFC 9000 §21.4). The caller chooses
// when, with its own randomness. An ACK covering it is an error.
func (p *Path[T]) SkipPacketNumber(s Space) error {
	sp, err := p.space(s)
	if err != nil {
		return err
	}
	if sp.nextPN >= maxPacketNumber {
		return ErrPacketNumberOverflow
	}
	sp.skipped[sp.nSkipped%len(sp.skipped)] = sp.nextPN
	sp.nSkipped++
	sp.nextPN++
	return nil
}

// LargestAcked returns the largest packet number the peer acknowledged in
// s, needed to encode packet numbers (RFC 9000 §17.1).
func (p *Path[T]) LargestAcked(s Space) (uint64, bool) {
	if s >= numSpaces {
		return 0, false
	}
	return p.spaces[s].largestAcked, p.spaces[s].hasLargestAcked
}

// Acks returns the receive-side ACK tracker of s, or nil if s is invalid.
func (p *Path[T]) Acks(s Space) *AckTracker {
	if s >= numSpaces {
		return nil
	}
	return &p.spaces[s].acks
}

// OnPacketSent records a sent packet. Its number must be at least
// NextPacketNumber(s). Ack-eliciting packets are always in flight.
func (p *Path[T]) OnPacketSent(s Space, pkt SentPacket[T]) error {
	sp, err := p.space(s)
	if err != nil {
		return err
	}
	if pkt.Number < sp.nextPN || (sp.sent.len() > 0 && pkt.Number <= sp.sent.at(sp.sent.len()-1).pkt.Number) {
		return ErrPacketNumberReused
	}
	if pkt.Number > maxPacketNumber {
		return ErrPacketNumberOverflow
	}
	if pkt.Size < 0 {
		pkt.Size = 0
	}
	pkt.InFlight = pkt.InFlight || pkt.AckEliciting
	sp.nextPN = pkt.Number + 1
	sp.sent.push(pkt)
	now := pkt.TimeSent
	if pkt.InFlight {
		if pkt.AckEliciting {
			sp.lastAckElicitingSent = now
			if sp.probes > 0 {
				sp.probes--
			}
		}
		p.cc.OnPacketSent(now, pkt.Size)
		p.pacer.OnPacketSent(now, pkt.Size, p.cc.Window(), p.rtt.Smoothed(), p.mds)
	}
	p.setLossDetectionTimer(now)
	return nil
}

// AckFrame is a decoded ACK (or PATH_ACK) frame.
type AckFrame struct {
	// Ranges as on the wire: largest first, disjoint.
	Ranges []AckRange
	// AckDelay is the decoded (exponent-scaled) delay.
	AckDelay time.Duration
	// HasECN marks an ACK_ECN frame carrying ECN.
	HasECN bool
	ECN    ECNCounts
}

// AckResult is what one ACK frame changed. The slices alias buffers owned
// by the Path and are valid until the next call on it.
type AckResult[T any] struct {
	Acked []SentPacket[T] // newly acknowledged, ascending
	Lost  []SentPacket[T] // newly declared lost, ascending
	// RTTUpdated is set when the frame produced an RTT sample.
	RTTUpdated bool
	// PersistentCongestion is set when Lost established persistent
	// congestion and the window collapsed.
	PersistentCongestion bool
	// CongestionEvent is set when loss or a CE mark reduced the window (or
	// would have, had a recovery period not already been running).
	CongestionEvent bool
}

func validateRanges(r []AckRange) error {
	if len(r) == 0 {
		return ErrInvalidAckRanges
	}
	for i := range r {
		if r[i].Smallest > r[i].Largest {
			return ErrInvalidAckRanges
		}
		if i > 0 && r[i].Largest >= r[i-1].Smallest {
			return ErrInvalidAckRanges
		}
	}
	return nil
}

// OnAckReceived processes an ACK frame for space s (RFC 9002 §A.7): marks
// packets acknowledged, samples the RTT, detects losses, feeds the
// congestion controller and re-arms the loss detection timer.
func (p *Path[T]) OnAckReceived(s Space, ack AckFrame, now time.Time) (AckResult[T], error) {
	p.acked, p.lost = p.acked[:0], p.lost[:0]
	sp, err := p.space(s)
	if err != nil {
		return AckResult[T]{}, err
	}
	if err := validateRanges(ack.Ranges); err != nil {
		return AckResult[T]{}, err
	}
	largest := ack.Ranges[0].Largest
	if largest >= sp.nextPN {
		return AckResult[T]{}, ErrAckOfUnsentPacket
	}
	for i := 0; i < min(sp.nSkipped, len(sp.skipped)); i++ {
		if covers(ack.Ranges, sp.skipped[i]) {
			return AckResult[T]{}, ErrAckOfSkippedPacket
		}
	}
	if !sp.hasLargestAcked || largest > sp.largestAcked {
		sp.hasLargestAcked, sp.largestAcked = true, largest
	}
	if s == Handshake {
		p.handshakeAcked = true
	}
	if refuted, gap, undo := p.spur.onAck(s, ack.Ranges, now, spuriousWindow*p.rtt.Smoothed()+p.cfg.PeerMaxAckDelay); refuted > 0 {
		sp.onRefuted(gap)
		if undo {
			p.cc.OnSpuriousCongestion()
		}
	}

	// Walk ranges smallest first so results come out ascending.
	ackEliciting := false
	for i := len(ack.Ranges) - 1; i >= 0; i-- {
		r := ack.Ranges[i]
		for j := sp.sent.search(r.Smallest); j < sp.sent.len(); j++ {
			e := sp.sent.at(j)
			if e.pkt.Number > r.Largest {
				break
			}
			if e.state != stateOutstanding {
				continue
			}
			sp.sent.settle(e, stateAcked)
			p.acked = append(p.acked, e.pkt)
			ackEliciting = ackEliciting || e.pkt.AckEliciting
			if e.pkt.AckEliciting && e.pkt.TimeSent.After(sp.unrepaired) {
				sp.unrepaired = time.Time{}
			}
		}
	}
	res := AckResult[T]{}
	if len(p.acked) == 0 {
		sp.sent.trim()
		return res, nil
	}

	newest := p.acked[len(p.acked)-1]
	if newest.Number == largest && ackEliciting {
		delay := ack.AckDelay
		if s == Initial {
			delay = 0 // Initial ACKs are never delayed on purpose
		}
		p.rtt.Update(now, now.Sub(newest.TimeSent), delay, p.cfg.PeerMaxAckDelay, p.handshakeConfirmed)
		p.cc.OnRTTSample(congestion.RTTSample{Now: now, Latest: p.rtt.Adjusted(), Min: p.rtt.Min(), Smoothed: p.rtt.Smoothed()})
		for s := range numSpaces {
			p.spaces[s].acks.SetRTT(p.rtt.Smoothed())
		}
		res.RTTUpdated = true
	}

	if ack.HasECN && p.processECN(sp, ack.ECN, newest.TimeSent, now) {
		res.CongestionEvent = true
	}

	lossEvent, persistent := p.detectLost(s, now)
	res.CongestionEvent = res.CongestionEvent || lossEvent
	res.PersistentCongestion = persistent

	for _, a := range p.acked {
		if a.InFlight {
			p.cc.OnAck(congestion.Ack{
				Now: now, SentTime: a.TimeSent, Bytes: a.Size,
				SmoothedRTT: p.rtt.Smoothed(), AppLimited: p.appLimited,
			})
		}
	}
	if p.peerCompletedAddressValidation() {
		p.ptoCount = 0
	}
	sp.sent.trim()
	p.setLossDetectionTimer(now)
	res.Acked, res.Lost = p.acked, p.lost
	return res, nil
}

func covers(r []AckRange, pn uint64) bool {
	for _, x := range r {
		if x.Smallest <= pn && pn <= x.Largest {
			return true
		}
	}
	return false
}

// processECN reacts to a rise in the CE count (RFC 9002 §7.1). Counts that
// went backwards come from a reordered ACK and are ignored.
func (p *Path[T]) processECN(sp *spaceState[T], c ECNCounts, sentTime, now time.Time) bool {
	prev := sp.ecnSeen
	if c.ECT0 < prev.ECT0 || c.ECT1 < prev.ECT1 || c.CE < prev.CE {
		return false
	}
	sp.ecnSeen = c
	if c.CE > prev.CE {
		p.cc.OnCongestionEvent(now, sentTime)
		return true
	}
	return false
}

func (p *Path[T]) peerCompletedAddressValidation() bool {
	return p.cfg.IsServer || p.handshakeConfirmed || p.handshakeAcked
}

// SetHandshakeConfirmed records handshake confirmation: PTO now covers
// application data and ACK delays are capped at max_ack_delay.
func (p *Path[T]) SetHandshakeConfirmed(now time.Time) {
	p.handshakeConfirmed = true
	p.setLossDetectionTimer(now)
}

// SetHandshakeKeys records that Handshake keys are available, so an
// anti-deadlock probe goes out in the Handshake space.
func (p *Path[T]) SetHandshakeKeys(now time.Time) {
	p.handshakeKeys = true
	p.setLossDetectionTimer(now)
}

// SetAmplificationBlocked tells a server whether the anti-amplification
// limit currently stops it from sending; while it does, no PTO is armed
// (RFC 9002 §6.2.2.1).
func (p *Path[T]) SetAmplificationBlocked(blocked bool, now time.Time) {
	p.amplificationBlocked = blocked
	p.setLossDetectionTimer(now)
}

// SetPeerMaxAckDelay applies the peer's max_ack_delay transport parameter.
func (p *Path[T]) SetPeerMaxAckDelay(d time.Duration) {
	if d >= 0 {
		p.cfg.PeerMaxAckDelay = d
	}
}

// SetAppLimited tells the path whether the sender is short of data rather
// than of window; while it is, ACKs do not grow the window.
func (p *Path[T]) SetAppLimited(limited bool) { p.appLimited = limited }

// SetMaxDatagramSize updates the path's datagram size after PMTU discovery.
func (p *Path[T]) SetMaxDatagramSize(size int) {
	if size < congestion.InitialMaxDatagramSize {
		return
	}
	p.mds = size
	p.cc.SetMaxDatagramSize(size)
}

// DiscardSpace drops all state of s when its keys are discarded
// (RFC 9002 §6.4): its packets leave bytes in flight without counting as
// lost, and the PTO backoff restarts. It returns the dropped outstanding
// packets (aliasing a Path buffer) so their payloads can be released.
func (p *Path[T]) DiscardSpace(s Space, now time.Time) []SentPacket[T] {
	p.lost = p.lost[:0]
	if s >= numSpaces || p.spaces[s].discarded {
		return nil
	}
	sp := &p.spaces[s]
	sp.sent.clear(func(pkt SentPacket[T]) { p.lost = append(p.lost, pkt) })
	sp.acks.reset()
	sp.discarded = true
	sp.lossTime = time.Time{}
	sp.lastAckElicitingSent = time.Time{}
	sp.probes = 0
	p.ptoCount = 0
	p.setLossDetectionTimer(now)
	return p.lost
}

// Discarded reports whether s has been discarded.
func (p *Path[T]) Discarded(s Space) bool { return s >= numSpaces || p.spaces[s].discarded }

// ForEachOutstanding calls fn for each outstanding packet of s, oldest
// first, until fn returns false; PTO probes may resend their data.
func (p *Path[T]) ForEachOutstanding(s Space, fn func(*SentPacket[T]) bool) {
	if s >= numSpaces {
		return
	}
	h := &p.spaces[s].sent
	for i := 0; i < h.len(); i++ {
		if e := h.at(i); e.state == stateOutstanding && !fn(&e.pkt) {
			return
		}
	}
}

// RTT returns the path's RTT estimator.
func (p *Path[T]) RTT() *RTT { return &p.rtt }

// Congestion returns the path's congestion controller.
func (p *Path[T]) Congestion() congestion.Controller { return p.cc }

// MaxDatagramSize returns the path's current datagram size.
func (p *Path[T]) MaxDatagramSize() int { return p.mds }

// BytesInFlight sums in-flight bytes over all spaces.
func (p *Path[T]) BytesInFlight() int {
	n := 0
	for s := range numSpaces {
		n += p.spaces[s].sent.bytesInFlight
	}
	return n
}

// PTOCount is the current PTO backoff exponent.
func (p *Path[T]) PTOCount() int { return p.ptoCount }

// ProbesPending returns how many PTO probe packets s still owes. Probes
// ignore the congestion window and pacing.
func (p *Path[T]) ProbesPending(s Space) int {
	if s >= numSpaces {
		return 0
	}
	return p.spaces[s].probes
}

// CanSend reports whether the congestion window admits another packet in
// s (or a probe is owed there).
func (p *Path[T]) CanSend(s Space) bool {
	return p.ProbesPending(s) > 0 || p.cc.CanSend(p.BytesInFlight())
}

// PacingDelay returns how long to wait before sending size bytes; zero
// means now. Probes should not wait.
func (p *Path[T]) PacingDelay(now time.Time, size int) time.Duration {
	return p.pacer.Delay(now, size, p.cc.Window(), p.rtt.Smoothed(), p.mds)
}

// ProbeTimeout is the current PTO without backoff, including
// max_ack_delay once the handshake is confirmed; closing and draining
// periods are multiples of it (RFC 9000 §10.2).
func (p *Path[T]) ProbeTimeout() time.Duration {
	d := p.rtt.PTO()
	if p.handshakeConfirmed {
		d += p.cfg.PeerMaxAckDelay
	}
	return d
}

// CongestionState is a path's RTT estimate, congestion controller and
// pacer, saved across a connection migration (RFC 9000 §9.4).
type CongestionState struct {
	rtt   RTT
	cc    congestion.Controller
	pacer congestion.Pacer
}

// ResetCongestion starts the RTT estimate and the congestion controller
// afresh, as on a new network path, and returns the previous state so a
// failed migration can restore it. A controller supplied in Config cannot
// be recreated and is kept.
func (p *Path[T]) ResetCongestion() CongestionState {
	old := CongestionState{rtt: p.rtt, cc: p.cc, pacer: p.pacer}
	p.rtt = NewRTT(p.cfg.InitialRTT)
	p.pacer = congestion.Pacer{}
	if p.cfg.Congestion == nil {
		p.cc = congestion.NewCubic(p.mds)
	}
	return old
}

// RestoreCongestion puts back state saved by ResetCongestion.
func (p *Path[T]) RestoreCongestion(s CongestionState) {
	if s.cc == nil {
		return
	}
	p.rtt, p.cc, p.pacer = s.rtt, s.cc, s.pacer
	p.cc.SetMaxDatagramSize(p.mds)
}
