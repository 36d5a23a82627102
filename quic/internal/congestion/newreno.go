package congestion

import (
	"math"
	"time"
)

// NewReno is the RFC 9002 §7 congestion controller: slow start, then one
// datagram of growth per window acknowledged, halving on congestion.
type NewReno struct {
	maxDatagramSize int
	renoState
	prior   renoState // before the last reduction (OnSpuriousCongestion)
	canUndo bool
}

// renoState is what a congestion event changes.
type renoState struct {
	window   int
	ssthresh int
	// ackedInAvoidance accumulates acknowledged bytes during congestion
	// avoidance until a full window has been acknowledged.
	ackedInAvoidance int
	recovery         recoveryPeriod
}

var _ Controller = (*NewReno)(nil)

// NewNewReno returns a NewReno controller with the RFC 9002 initial window.
func NewNewReno(maxDatagramSize int) *NewReno {
	if maxDatagramSize <= 0 {
		maxDatagramSize = InitialMaxDatagramSize
	}
	return &NewReno{
		maxDatagramSize: maxDatagramSize,
		renoState: renoState{
			window:   InitialWindow(maxDatagramSize),
			ssthresh: math.MaxInt,
		},
	}
}

// OnPacketSent implements Controller; NewReno needs no per-send state.
func (r *NewReno) OnPacketSent(time.Time, int) {}

// OnAck implements Controller.
func (r *NewReno) OnAck(a Ack) {
	// No growth for packets sent before recovery began, nor while the
	// window is not the limiting factor.
	if r.recovery.contains(a.SentTime) || a.AppLimited || a.Bytes <= 0 {
		return
	}
	if r.window < r.ssthresh {
		r.window += a.Bytes
		return
	}
	r.ackedInAvoidance += a.Bytes
	if r.ackedInAvoidance >= r.window {
		r.ackedInAvoidance -= r.window
		r.window += r.maxDatagramSize
	}
}

// OnCongestionEvent implements Controller.
func (r *NewReno) OnCongestionEvent(now, sentTime time.Time) {
	if r.recovery.contains(sentTime) {
		return
	}
	r.prior, r.canUndo = r.renoState, true
	r.recovery.enter(now)
	r.ssthresh = max(r.window/2, MinimumWindow(r.maxDatagramSize))
	r.window = r.ssthresh
	r.ackedInAvoidance = 0
}

// OnPacketsLost implements Controller: NewReno halves for every loss.
func (r *NewReno) OnPacketsLost(now, sentTime time.Time) { r.OnCongestionEvent(now, sentTime) }

// OnRTTSample implements Controller; NewReno uses no RTT.
func (r *NewReno) OnRTTSample(RTTSample) {}

// OnSpuriousCongestion implements Controller.
func (r *NewReno) OnSpuriousCongestion() {
	if r.canUndo {
		r.renoState, r.canUndo = r.prior, false
	}
}

// OnPersistentCongestion implements Controller.
func (r *NewReno) OnPersistentCongestion(time.Time) {
	r.canUndo = false
	r.window = MinimumWindow(r.maxDatagramSize)
	r.ackedInAvoidance = 0
	r.recovery.reset()
}

// SetMaxDatagramSize implements Controller.
func (r *NewReno) SetMaxDatagramSize(size int) {
	if size <= 0 {
		return
	}
	r.maxDatagramSize = size
	r.window = max(r.window, MinimumWindow(size))
}

// Window implements Controller.
func (r *NewReno) Window() int { return r.window }

// SlowStartThreshold implements Controller.
func (r *NewReno) SlowStartThreshold() int { return r.ssthresh }

// InSlowStart implements Controller.
func (r *NewReno) InSlowStart() bool { return r.window < r.ssthresh }

// InRecovery implements Controller.
func (r *NewReno) InRecovery(sentTime time.Time) bool { return r.recovery.contains(sentTime) }

// CanSend implements Controller.
func (r *NewReno) CanSend(bytesInFlight int) bool { return bytesInFlight < r.window }
