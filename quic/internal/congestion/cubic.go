package congestion

import (
	"math"
	"time"
)

// RFC 9438 constants.
const (
	cubicC    = 0.4 // scaling constant C, in segments/second³
	cubicBeta = 0.7 // multiplicative decrease factor β_cubic
	// cubicAlpha is α_cubic = 3(1−β)/(1+β), the Reno-friendly additive
	// increase that gives the same average rate as Reno with β = 0.5.
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta)
)

// Cubic is the RFC 9438 congestion controller with fast convergence and
// the Reno-friendly region. The window is held in bytes as a float so that
// the small per-ACK increments of the cubic curve are not truncated away.
type Cubic struct {
	maxDatagramSize int
	cubicState
	// prior is the state before the last reduction, put back if every
	// loss behind it proves spurious (RFC 9438 §4.9); canUndo says it is.
	prior   cubicState
	canUndo bool

	backlog backlogEstimate // queueing seen in RTT samples
}

// cubicState is what a congestion event changes.
type cubicState struct {
	window   float64 // cwnd, bytes
	ssthresh int
	recovery recoveryPeriod

	// Congestion avoidance epoch; started lazily by the first ACK that
	// arrives in congestion avoidance after slow start or recovery.
	epochStarted bool
	epochStart   time.Time
	k            float64 // seconds until W_cubic reaches wMax
	wMax         float64 // window before the last reduction, segments
	wEst         float64 // Reno-friendly estimate, segments
	cwndPrior    float64 // window before the last reduction, segments
	alpha        float64 // current α for wEst
}

var _ Controller = (*Cubic)(nil)

// NewCubic returns a CUBIC controller with the RFC 9002 initial window.
func NewCubic(maxDatagramSize int) *Cubic {
	if maxDatagramSize <= 0 {
		maxDatagramSize = InitialMaxDatagramSize
	}
	return &Cubic{
		maxDatagramSize: maxDatagramSize,
		cubicState: cubicState{
			window:   float64(InitialWindow(maxDatagramSize)),
			ssthresh: math.MaxInt,
		},
	}
}

// CubicK returns K = cbrt((wMax − cwndEpoch)/C) in seconds, with both
// windows in segments (RFC 9438 Eq. 2).
func CubicK(wMax, cwndEpoch float64) float64 {
	return math.Cbrt(max(0, wMax-cwndEpoch) / cubicC)
}

// CubicWindow returns W_cubic(t) = C·(t−K)³ + wMax in segments
// (RFC 9438 Eq. 1), t and k in seconds.
func CubicWindow(t, k, wMax float64) float64 {
	d := t - k
	return cubicC*d*d*d + wMax
}

// OnPacketSent implements Controller.
func (c *Cubic) OnPacketSent(time.Time, int) {}

// OnAck implements Controller.
func (c *Cubic) OnAck(a Ack) {
	if c.recovery.contains(a.SentTime) || a.AppLimited || a.Bytes <= 0 {
		return
	}
	if c.InSlowStart() {
		c.window += float64(a.Bytes)
		return
	}
	mss := float64(c.maxDatagramSize)
	cwnd := c.window / mss
	if !c.epochStarted {
		c.startEpoch(a.Now, cwnd)
	}
	rtt := a.SmoothedRTT.Seconds()
	t := a.Now.Sub(c.epochStart).Seconds()
	if t < 0 {
		t = 0
	}
	acked := float64(a.Bytes) / mss

	c.wEst += c.alpha * acked / cwnd
	if c.wEst >= c.cwndPrior {
		c.alpha = 1
	}

	if CubicWindow(t, c.k, c.wMax) < c.wEst {
		// Reno-friendly region: at least as fast as Reno would be.
		c.window = max(c.window, c.wEst*mss)
		return
	}
	target := min(max(CubicWindow(t+rtt, c.k, c.wMax), cwnd), 1.5*cwnd)
	c.window += (target - cwnd) / cwnd * acked * mss
}

// startEpoch begins a congestion avoidance stage with cwnd (segments) as
// cwnd_epoch. Without a prior congestion event, the curve starts on its
// plateau at the current window.
func (c *Cubic) startEpoch(now time.Time, cwnd float64) {
	c.epochStarted = true
	c.epochStart = now
	if c.wMax == 0 {
		c.wMax = cwnd
		c.cwndPrior = cwnd
	}
	c.k = CubicK(c.wMax, cwnd)
	c.wEst = cwnd
	c.alpha = cubicAlpha
	if c.wEst >= c.cwndPrior {
		c.alpha = 1
	}
}

// OnCongestionEvent implements Controller: a CE mark gets β_cubic.
func (c *Cubic) OnCongestionEvent(now, sentTime time.Time) { c.reduce(now, sentTime, cubicBeta) }

// OnPacketsLost implements Controller: β_cubic, or randomLossBeta when
// the path shows no queue.
func (c *Cubic) OnPacketsLost(now, sentTime time.Time) {
	c.reduce(now, sentTime, c.backlog.lossBeta(c.window/float64(c.maxDatagramSize)))
}

// OnRTTSample implements Controller.
func (c *Cubic) OnRTTSample(s RTTSample) { c.backlog.onSample(s) }

// reduce starts a recovery period with multiplicative decrease beta,
// unless sentTime falls in the current one.
func (c *Cubic) reduce(now, sentTime time.Time, beta float64) {
	if c.recovery.contains(sentTime) {
		return
	}
	c.prior, c.canUndo = c.cubicState, true
	c.recovery.enter(now)
	mss := float64(c.maxDatagramSize)
	cwnd := c.window / mss
	c.cwndPrior = cwnd
	if cwnd < c.wMax {
		// Fast convergence: a flow whose window keeps shrinking releases
		// bandwidth to newer flows by aiming below its old maximum.
		c.wMax = cwnd * (1 + cubicBeta) / 2
	} else {
		c.wMax = cwnd
	}
	c.ssthresh = max(int(c.window*beta), MinimumWindow(c.maxDatagramSize))
	c.window = float64(c.ssthresh)
	c.epochStarted = false
}

// OnSpuriousCongestion implements Controller.
func (c *Cubic) OnSpuriousCongestion() {
	if c.canUndo {
		c.cubicState, c.canUndo = c.prior, false
	}
}

// OnPersistentCongestion implements Controller.
func (c *Cubic) OnPersistentCongestion(time.Time) {
	c.canUndo = false
	c.window = float64(MinimumWindow(c.maxDatagramSize))
	c.epochStarted = false
	c.recovery.reset()
}

// SetMaxDatagramSize implements Controller.
func (c *Cubic) SetMaxDatagramSize(size int) {
	if size <= 0 {
		return
	}
	// wMax, wEst and cwndPrior are in segments; rescale so the curve keeps
	// its byte-valued shape.
	scale := float64(c.maxDatagramSize) / float64(size)
	for _, st := range []*cubicState{&c.cubicState, &c.prior} {
		st.wMax *= scale
		st.wEst *= scale
		st.cwndPrior *= scale
	}
	c.maxDatagramSize = size
	c.window = max(c.window, float64(MinimumWindow(size)))
}

// Window implements Controller.
func (c *Cubic) Window() int { return int(c.window) }

// SlowStartThreshold implements Controller.
func (c *Cubic) SlowStartThreshold() int { return c.ssthresh }

// InSlowStart implements Controller.
func (c *Cubic) InSlowStart() bool { return c.window < float64(c.ssthresh) }

// InRecovery implements Controller.
func (c *Cubic) InRecovery(sentTime time.Time) bool { return c.recovery.contains(sentTime) }

// CanSend implements Controller.
func (c *Cubic) CanSend(bytesInFlight int) bool { return bytesInFlight < c.Window() }
