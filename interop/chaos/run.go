//go:build linux

package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Result is the outcome of one fault against one hub.
type Result struct {
	Hub        HubKind
	Fault      string
	Recoveries []time.Duration // per episode and spoke hit ("hits")
	Spokes     []SpokeResult
}

// SpokeResult is what one spoke went through.
type SpokeResult struct {
	Kind     SpokeKind
	Exit     int
	Tally    Tally
	Statuses map[string]int
}

// Worst is the longest recovery.
func (r Result) Worst() time.Duration {
	if len(r.Recoveries) == 0 {
		return 0
	}
	return slices.Max(r.Recoveries)
}

func (r Result) String() string {
	ms := make([]string, len(r.Recoveries))
	for i, d := range r.Recoveries {
		ms[i] = fmt.Sprint(d.Milliseconds())
	}
	return fmt.Sprintf("hub=%s fault=%s hits=%d worst_recovery_ms=%d recoveries_ms=%s",
		r.Hub, r.Fault, len(r.Recoveries), r.Worst().Milliseconds(), strings.Join(ms, ","))
}

func (s SpokeResult) String() string {
	st := s.Statuses
	return fmt.Sprintf("kind=%s exit=%d %s disconnects=%d reconnects=%d resent=%d failed=%d",
		s.Kind, s.Exit, s.Tally, st["disconnected"], st["reconnected"], st["resent_events"], st["failed_events"]+st["failed_event"])
}

// Run builds a rig for fault f against a hub of kind hub, lets the spokes
// send while the fault strikes, then requires every event to be echoed
// once (or excused by the fault's rules), every spoke to exit 0 with
// nothing given up, and every hit spoke to get an echo after each
// episode; how long that took is the recovery time.
func Run(t *testing.T, hub HubKind, f Fault, p Plan) Result {
	began := time.Now()
	r := NewRig(t, RigSpec{Hub: hub, Topology: f.Topology, Spokes: f.Spokes(p), LibIdle: p.LibIdle, Interval: p.Interval})
	ready := time.Now()
	eps := f.Inject(t, r, p)
	time.Sleep(p.Tail)
	for _, s := range r.Spokes {
		s.StopSending()
	}
	rules := func() Rules {
		lost := r.Disconnects() > 0
		rl := Rules{AllCopies: !lost, DupCopies: lost || f.HubKilled}
		if f.HubKilled {
			rl.LostBefore = r.lastHubKill
		}
		return rl
	}
	settling := time.Now()
	r.settle(p.Settle, rules)
	finishing := time.Now()
	res := Result{Hub: hub, Fault: f.Name, Spokes: r.finish(t, p.Settle)}
	t.Logf("chaos: phases hub=%s fault=%s setup_ms=%d faults_ms=%d settle_ms=%d finish_ms=%d", hub, f.Name,
		ready.Sub(began).Milliseconds(), settling.Sub(ready).Milliseconds(), finishing.Sub(settling).Milliseconds(), time.Since(finishing).Milliseconds())
	for _, err := range r.Journal.Check(rules()) {
		t.Error(err)
	}
	for i, s := range res.Spokes {
		t.Logf("chaos: spoke hub=%s fault=%s spoke=%d %s", hub, f.Name, i, s)
		if s.Exit != 0 || s.Statuses["failed"] > 0 || s.Statuses["failed_event"] > 0 {
			t.Errorf("%s spoke %d: exit %d, %d failed status lines: events were given up", s.Kind, i, s.Exit, s.Statuses["failed"])
		}
		if slices.Contains(f.Connected, s.Kind) && s.Statuses["disconnected"] > 0 {
			t.Errorf("%s spoke %d lost its connection %d times; it must ride %s out", s.Kind, i, s.Statuses["disconnected"], f.Name)
		}
	}
	for _, ep := range eps {
		for _, i := range ep.Spokes {
			d, ok := r.Journal.Recovery(i, ep.End)
			if !ok {
				t.Errorf("spoke %d got no echo after the %s that ended %s", i, f.Name, ep.End.Format(time.StampMilli))
				continue
			}
			res.Recoveries = append(res.Recoveries, d)
		}
	}
	t.Logf("chaos: result %s", res)
	return res
}

// settle waits until the journal has every echo and copy the rules want,
// or d passed (Check then names what is missing).
func (r *Rig) settle(d time.Duration, rules func() Rules) {
	deadline := time.Now().Add(d)
	for !r.Journal.Settled(rules()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// finish closes every spoke's input and waits for them to exit.
func (r *Rig) finish(t *testing.T, d time.Duration) []SpokeResult {
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Second)
	defer cancel()
	out := make([]SpokeResult, len(r.Spokes))
	errs := make([]error, len(r.Spokes))
	var wg sync.WaitGroup
	for i, s := range r.Spokes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := s.Finish(ctx)
			out[i] = SpokeResult{Kind: s.Kind, Exit: code, Tally: r.Journal.Tally(i), Statuses: s.Statuses()}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}
