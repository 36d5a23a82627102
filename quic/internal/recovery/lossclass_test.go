package recovery

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/congestion"
)

// reductionLog is a Cubic that records by what factor each loss reduced
// its window.
type reductionLog struct {
	*congestion.Cubic
	factors []float64
}

func (r *reductionLog) OnPacketsLost(now, sentTime time.Time) {
	before, inRecovery := r.Window(), r.InRecovery(sentTime)
	r.Cubic.OnPacketsLost(now, sentTime)
	if !inRecovery && before > 2*congestion.MinimumWindow(1200) {
		r.factors = append(r.factors, float64(r.Window())/float64(before))
	}
}

// share counts the reductions near factor f.
func (r *reductionLog) share(f float64) float64 {
	n := 0
	for _, x := range r.factors {
		if x > f-0.03 && x < f+0.03 {
			n++
		}
	}
	return float64(n) / float64(len(r.factors))
}

// TestLossesAtAFullQueueGetTheFullReduction: a 20 Mbit/s bottleneck with
// a 50 ms drop-tail queue and no random loss. Every loss comes from the
// queue overflowing, with the RTT well above its minimum: CUBIC must cut
// by β_cubic (0.7), as without random-loss tolerance.
func TestLossesAtAFullQueueGetTheFullReduction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fwd := &simLink{rng: rng, bandwidth: 2.5e6, delay: 25 * ms, maxQueue: 50 * ms}
	rev := &simLink{rng: rng, bandwidth: 1e9, delay: 25 * ms, maxQueue: time.Second}
	cc := &reductionLog{Cubic: congestion.NewCubic(1200)}
	simulateOn(t, cc, fwd, rev, 40000)
	if len(cc.factors) < 5 || cc.share(0.7) < 0.9 {
		t.Fatalf("reductions %.2f: want nearly all 0.7", cc.factors)
	}
}

// TestRandomLossWithoutQueueGetsTheSmallReduction: 5 % random loss on a
// path that never queues. The RTT stays at its minimum, so the losses are
// not congestion: CUBIC cuts by 0.85, and moves the data faster than
// with β_cubic for every loss (NewReno's halving is the floor).
func TestRandomLossWithoutQueueGetsTheSmallReduction(t *testing.T) {
	run := func(cc congestion.Controller) time.Duration {
		rng := rand.New(rand.NewPCG(5, 6))
		fwd := &simLink{rng: rng, bandwidth: 1e9, delay: 25 * ms, maxQueue: time.Second, loss: 0.05}
		rev := &simLink{rng: rng, bandwidth: 1e9, delay: 25 * ms, maxQueue: time.Second, loss: 0.05}
		return simulateOn(t, cc, fwd, rev, 3000)
	}
	cc := &reductionLog{Cubic: congestion.NewCubic(1200)}
	tolerant := run(cc)
	if len(cc.factors) < 10 || cc.share(0.85) < 0.9 {
		t.Fatalf("reductions %.2f: want nearly all 0.85", cc.factors)
	}
	if halving := run(congestion.NewNewReno(1200)); tolerant >= halving {
		t.Fatalf("tolerant CUBIC took %v, NewReno %v", tolerant, halving)
	}
	t.Logf("3000 chunks at 5 %% random loss: CUBIC %v", tolerant)
}
