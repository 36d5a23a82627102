package congestion

import "time"

// Random-loss tolerance, after TCP Veno: a loss while the path shows no
// standing queue is unlikely to come from congestion (a full queue delays
// packets before it drops them), more likely from a lossy link such as
// Wi-Fi or a cellular hop. CUBIC then reduces its window less. Losses
// with a queue building, and ECN-CE marks, get the full reduction, so
// flows sharing a real bottleneck are treated as before.
const (
	// randomLossBeta is the multiplicative decrease for a loss with no
	// queue (β_cubic is 0.7); Veno's ratio of 4/5 to 1/2 puts it here.
	randomLossBeta = 0.85
	// congestedBacklog is how many of our packets must wait in queues for
	// a loss to count as congestion (Veno's β of 3 packets).
	congestedBacklog = 3
)

// RTTSample is one round-trip measurement, as the controller needs it.
type RTTSample struct {
	Now time.Time
	// Latest is the sample net of the peer's reported ACK delay.
	Latest time.Duration
	// Min is the path's minimum RTT: the propagation delay, no queue.
	Min time.Duration
	// Smoothed is the path's smoothed RTT, the length of a round.
	Smoothed time.Duration
}

// backlogEstimate tracks the smallest RTT sample of the current and the
// previous round: the smallest filters out ACK delays and noise, so what
// exceeds the path minimum is queueing.
type backlogEstimate struct {
	min        time.Duration // path minimum
	round      time.Duration // smallest sample this round
	prev       time.Duration // smallest sample of the previous round
	roundStart time.Time
	have       bool
}

func (b *backlogEstimate) onSample(s RTTSample) {
	if s.Latest <= 0 || s.Min <= 0 {
		return
	}
	if !b.have || s.Now.Sub(b.roundStart) >= s.Smoothed {
		b.prev, b.round, b.roundStart = b.round, s.Latest, s.Now
		if !b.have {
			b.prev = s.Latest
		}
		b.have = true
	}
	b.round = min(b.round, s.Latest)
	b.min = s.Min
}

// packets estimates how many of a window of cwnd packets sit in queues:
// cwnd · (rtt − min) / rtt, rtt being the recent smallest sample.
func (b *backlogEstimate) packets(cwnd float64) (float64, bool) {
	if !b.have {
		return 0, false
	}
	rtt := min(b.round, b.prev)
	if rtt <= b.min {
		return 0, true
	}
	return cwnd * float64(rtt-b.min) / float64(rtt), true
}

// lossBeta is the multiplicative decrease for a loss with a window of
// cwnd packets: randomLossBeta when the path shows no queue.
func (b *backlogEstimate) lossBeta(cwnd float64) float64 {
	if q, ok := b.packets(cwnd); ok && q < congestedBacklog {
		return randomLossBeta
	}
	return cubicBeta
}
