//go:build linux

package chaos_test

import (
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/chaos"
)

// EnvLong selects the long version, as for the soak tests.
const EnvLong = "IROHSPOKE_SOAK"

var (
	// shortPlan strikes each fault once, briefly: each run takes 5 to 9 s,
	// all of them in parallel.
	shortPlan = chaos.Plan{
		Interval: 50 * time.Millisecond, LibIdle: 3 * time.Second, Tail: time.Second, Settle: 15 * time.Second,
		RelayCycles: 1, RelayDown: time.Second, RelayUp: time.Second,
		FlushCycles: 2, FlushGap: time.Second,
		LossFor:   2 * time.Second,
		HubCycles: 1, HubDown: time.Second, HubUp: time.Second,
		StopFor: 2 * time.Second, StopAfter: time.Second,
	}
	// longPlan repeats each fault and stops every spoke for 20 s. The
	// dial spoke joins the hub kills: it notices a dead hub only at its
	// 30 s idle timeout, so the hub stays up 40 s between kills.
	longPlan = chaos.Plan{
		Interval: 50 * time.Millisecond, LibIdle: 3 * time.Second, Tail: 3 * time.Second, Settle: 60 * time.Second,
		RelayCycles: 10, RelayDown: 2 * time.Second, RelayUp: 5 * time.Second,
		FlushCycles: 10, FlushGap: 3 * time.Second,
		LossFor:   time.Minute,
		HubCycles: 3, HubDown: 2 * time.Second, HubUp: 40 * time.Second, HubKillDial: true,
		StopFor: 20 * time.Second, StopAfter: 10 * time.Second, StopEverySpoke: true,
	}
)

// TestChaos runs every fault against a real iroh hub and our Go hub, each
// in its own lab, while the spokes send numbered events; see Run for what
// must hold. The worst recovery time per fault and hub is logged at the end.
func TestChaos(t *testing.T) {
	plan := shortPlan
	if os.Getenv(EnvLong) == "1" {
		plan = longPlan
	}
	var mu sync.Mutex
	var results []chaos.Result
	t.Cleanup(func() {
		sort.Slice(results, func(i, j int) bool {
			if results[i].Fault != results[j].Fault {
				return results[i].Fault < results[j].Fault
			}
			return results[i].Hub < results[j].Hub
		})
		for _, r := range results {
			t.Logf("chaos: summary %s", r)
		}
	})
	for _, hub := range []chaos.HubKind{chaos.IrohHub, chaos.GoHub} {
		t.Run(string(hub), func(t *testing.T) {
			t.Parallel()
			for _, f := range chaos.Faults {
				t.Run(f.Name, func(t *testing.T) {
					t.Parallel() // each in its own lab; mostly waiting
					res := chaos.Run(t, hub, f, plan)
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
				})
			}
		})
	}
}
