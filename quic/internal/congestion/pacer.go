package congestion

import "time"

// Pacing parameters (RFC 9002 §7.7).
const (
	// pacingGain is N: pace at 1.25 windows per smoothed RTT so that
	// pacing itself never keeps the window from being used.
	pacingGain = 1.25
	// pacingBurstPackets is how many datagrams may leave back to back.
	pacingBurstPackets = 10
)

// Pacer spreads a window's worth of packets over a round trip with a
// credit (token bucket) scheme: credit accrues at N·cwnd/srtt and is capped
// at a burst of about ten datagrams (never more than the window). It reads
// no clock: every call gets now, the current window, smoothed RTT and
// datagram size.
type Pacer struct {
	credit  float64 // bytes that may be sent right now
	last    time.Time
	started bool
}

// Rate returns the pacing rate in bytes per second, or 0 when pacing is
// off (no RTT estimate yet).
func Rate(window int, smoothedRTT time.Duration) float64 {
	if smoothedRTT <= 0 || window <= 0 {
		return 0
	}
	return pacingGain * float64(window) / smoothedRTT.Seconds()
}

func burst(window, maxDatagramSize int) float64 {
	return float64(max(maxDatagramSize, min(pacingBurstPackets*maxDatagramSize, window)))
}

func (p *Pacer) refill(now time.Time, window int, smoothedRTT time.Duration, maxDatagramSize int) {
	capacity := burst(window, maxDatagramSize)
	if !p.started {
		p.started, p.last, p.credit = true, now, capacity
		return
	}
	if now.After(p.last) {
		p.credit += Rate(window, smoothedRTT) * now.Sub(p.last).Seconds()
		p.last = now
	}
	p.credit = min(p.credit, capacity)
}

// Delay returns how long to wait before a packet of size bytes may be sent;
// zero means send now.
func (p *Pacer) Delay(now time.Time, size, window int, smoothedRTT time.Duration, maxDatagramSize int) time.Duration {
	rate := Rate(window, smoothedRTT)
	if rate == 0 {
		return 0
	}
	p.refill(now, window, smoothedRTT, maxDatagramSize)
	// A packet larger than the whole bucket waits only for a full bucket.
	need := min(float64(size), burst(window, maxDatagramSize))
	if p.credit >= need {
		return 0
	}
	d := time.Duration((need - p.credit) / rate * float64(time.Second))
	// Round up so the caller, woken at now+d, finds enough credit.
	return d + 1
}

// NextSendTime is now plus Delay.
func (p *Pacer) NextSendTime(now time.Time, size, window int, smoothedRTT time.Duration, maxDatagramSize int) time.Time {
	return now.Add(p.Delay(now, size, window, smoothedRTT, maxDatagramSize))
}

// OnPacketSent spends credit for a sent packet. Credit may go negative when
// the caller sends anyway (probes); that debt, bounded by one burst, is paid
// back before the next paced packet.
func (p *Pacer) OnPacketSent(now time.Time, size, window int, smoothedRTT time.Duration, maxDatagramSize int) {
	p.refill(now, window, smoothedRTT, maxDatagramSize)
	p.credit = max(p.credit-float64(size), -burst(window, maxDatagramSize))
}
