package quic

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// lossTable runs every stack at every loss rate over seeds runs of
// network, and returns the mean time per stack and rate (failed runs
// count as limit) with a printable table.
type lossResult struct {
	mean   time.Duration
	failed int
	runs   []time.Duration
}

func (r lossResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mean %7.2fs", r.mean.Seconds())
	if r.failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", r.failed)
	}
	b.WriteString(" [")
	for i, d := range r.runs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f", d.Seconds())
	}
	b.WriteString("]")
	return b.String()
}

// TestSoakLossVsQuicGoSim moves one bulk stream over a link with random
// loss both ways and 50 ms RTT, in virtual time (testing/synctest), with
// our client and server and with quic-go's, and checks that ours is at
// least as fast at 5, 10 and 30 % loss. The short run is 1 MiB, three
// seeds; IROHSPOKE_SOAK=1 runs 8 MiB over ten seeds and logs the table.
func TestSoakLossVsQuicGoSim(t *testing.T) {
	size, seeds := 1<<20, uint64(3)
	if os.Getenv("IROHSPOKE_SOAK") == "1" {
		size, seeds = 8<<20, 10
	}
	for _, loss := range []float64{0.05, 0.1, 0.3} {
		res := map[string]lossResult{}
		for _, st := range lossStacks {
			var r lossResult
			for seed := uint64(1); seed <= seeds; seed++ {
				run := lossRun{size: size, loss: loss, delay: 25 * time.Millisecond, seed: seed}
				synctest.Test(t, func(t *testing.T) {
					d, err := st.transfer(t, run, newMemNet(run.seed, run.delay, run.loss))
					if err != nil {
						t.Logf("%s, %.0f %% loss, seed %d: %v", st.name, loss*100, seed, err)
						r.failed++
						d = time.Hour
					}
					r.runs = append(r.runs, d)
					r.mean += d / time.Duration(seeds)
				})
			}
			res[st.name] = r
			t.Logf("%2.0f %% loss, %d KiB: %-8s %v", loss*100, size>>10, st.name, r)
		}
		if ours := res["ours"]; ours.failed > 0 || ours.mean > res["quic-go"].mean {
			t.Errorf("%.0f %% loss: ours %v, quic-go %v", loss*100, ours, res["quic-go"])
		}
	}
}
