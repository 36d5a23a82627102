//go:build linux

package chaos

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// Plan sets how long and how often each fault strikes.
type Plan struct {
	Interval time.Duration // between one spoke's events
	LibIdle  time.Duration // LibSpoke's QUIC idle timeout
	Tail     time.Duration // traffic after the last fault
	Settle   time.Duration // bound on waiting for the last echoes

	RelayCycles        int
	RelayDown, RelayUp time.Duration
	FlushCycles        int
	FlushGap           time.Duration
	LossFor            time.Duration
	HubCycles          int
	HubDown, HubUp     time.Duration
	HubKillDial        bool // also run a dial spoke (30 s to notice)
	StopFor, StopAfter time.Duration
	StopEverySpoke     bool // else only spoke 0
}

// Episode is one strike of a fault: when it ended and whom it hit.
type Episode struct {
	End    time.Time
	Spokes []int
}

// Fault is one kind of trouble, injected into a running rig.
type Fault struct {
	Name     string
	Topology Topology
	// Inject strikes, for as long as the plan says, and returns the
	// episodes.
	Inject func(t *testing.T, r *Rig, p Plan) []Episode
	// Connected are the spoke kinds that must ride it out on the
	// connection they had.
	Connected []SpokeKind
	// HubKilled: an event the killed hub acknowledged but never echoed
	// counts as delivered.
	HubKilled bool
}

// Spokes are the spoke kinds that run for fault f under plan p.
func (f Fault) Spokes(p Plan) []SpokeKind {
	if f.HubKilled && !p.HubKillDial {
		return []SpokeKind{LibSpoke, LibSpoke}
	}
	return []SpokeKind{DialSpoke, LibSpoke}
}

// Faults are the chaos suite's faults.
var Faults = []Fault{
	{Name: "relay-restart", Topology: Relayed, Inject: restartRelay, Connected: []SpokeKind{DialSpoke}},
	{Name: "conntrack-flush", Topology: Direct, Inject: flushConntrack, Connected: []SpokeKind{DialSpoke, LibSpoke}},
	{Name: "udp-loss", Topology: Direct, Inject: loseUDP, Connected: []SpokeKind{DialSpoke, LibSpoke}},
	{Name: "hub-kill", Topology: Direct, Inject: killHub, HubKilled: true},
	{Name: "spoke-stop", Topology: Direct, Inject: stopSpokes, Connected: []SpokeKind{DialSpoke}},
}

func everySpoke(r *Rig) []int {
	all := make([]int, len(r.Spokes))
	for i := range all {
		all[i] = i
	}
	return all
}

// restartRelay kills the relay (SIGKILL) and starts it again, repeatedly.
func restartRelay(t *testing.T, r *Rig, p Plan) []Episode {
	var eps []Episode
	for range p.RelayCycles {
		r.RestartRelay(t, p.RelayDown)
		eps = append(eps, Episode{End: time.Now(), Spokes: everySpoke(r)})
		time.Sleep(p.RelayUp)
	}
	return eps
}

// flushConntrack empties the spokes' NAT tables: every mapping is gone,
// the random-port NAT picks new ports, and replies from outside are
// dropped until the spoke sends again.
func flushConntrack(t *testing.T, r *Rig, p Plan) []Episode {
	ctx := context.Background()
	var eps []Episode
	for range p.FlushCycles {
		for i := range r.Spokes {
			router := r.SpokeRouter(i)
			before, err := router.ConntrackCount(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := router.FlushConntrack(); err != nil {
				t.Fatal(err)
			}
			if before == 0 {
				t.Errorf("router of spoke %d had no conntrack entries to flush", i)
			}
		}
		eps = append(eps, Episode{End: time.Now(), Spokes: everySpoke(r)})
		time.Sleep(p.FlushGap)
	}
	return eps
}

// loseUDP drops LossPercent % of the UDP datagrams arriving at the hub
// and at every spoke.
func loseUDP(t *testing.T, r *Rig, p Plan) []Episode {
	ctx := context.Background()
	hosts := []*natlab.Host{r.HubHost}
	for i := range r.Spokes {
		hosts = append(hosts, r.SpokeHost(i))
	}
	for _, h := range hosts {
		if err := AddLoss(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(p.LossFor)
	for _, h := range hosts {
		dropped, err := RemoveLoss(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("chaos: udp-loss host=%s dropped=%d", h.Name, dropped)
		if dropped == 0 {
			t.Errorf("no datagram dropped on %s", h.Name)
		}
	}
	return []Episode{{End: time.Now(), Spokes: everySpoke(r)}}
}

// killHub kills the hub with SIGKILL and starts it again with the same
// key on the same address.
func killHub(t *testing.T, r *Rig, p Plan) []Episode {
	var eps []Episode
	for range p.HubCycles {
		r.Hub.Kill()
		r.lastHubKill = time.Now()
		time.Sleep(p.HubDown)
		r.Hub.Restart(t)
		eps = append(eps, Episode{End: time.Now(), Spokes: everySpoke(r)})
		time.Sleep(p.HubUp)
	}
	return eps
}

// stopSpokes freezes a spoke process (SIGSTOP) and lets it go on
// (SIGCONT) while the others keep sending.
func stopSpokes(t *testing.T, r *Rig, p Plan) []Episode {
	targets := []int{0}
	if p.StopEverySpoke {
		targets = everySpoke(r)
	}
	var eps []Episode
	for _, i := range targets {
		r.Spokes[i].Proc.Signal(syscall.SIGSTOP)
		time.Sleep(p.StopFor)
		r.Spokes[i].Proc.Signal(syscall.SIGCONT)
		eps = append(eps, Episode{End: time.Now(), Spokes: []int{i}})
		time.Sleep(p.StopAfter)
	}
	return eps
}
