//go:build linux

package chaos

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// Topology is where the hub sits and how the spokes reach it.
type Topology int

const (
	// Direct: the hub on the public segment; the spokes, behind NATs, dial
	// its address (and know its relay, which multipath keeps as a backup
	// path).
	Direct Topology = iota
	// Relayed: the hub behind an endpoint-independent NAT, spokes that
	// know only its EndpointId and relay. Without QUIC address discovery
	// neither side has a candidate the other can reach, so every packet
	// goes through the relay.
	Relayed
)

// spokeNATKinds alternate: spoke 0 behind a random-port NAT, spoke 1
// behind an endpoint-independent one, and so on.
var spokeNATKinds = []natlab.NATKind{natlab.RandomPort, natlab.EndpointIndependent}

// RigSpec describes one chaos run.
type RigSpec struct {
	Hub      HubKind
	Topology Topology
	Spokes   []SpokeKind
	LibIdle  time.Duration // LibSpoke's QUIC idle timeout
	Interval time.Duration // between one spoke's events
}

// Rig is a lab with a relay, a hub and spokes sending numbered events.
type Rig struct {
	Lab       *natlab.Lab
	RelayHost *natlab.Host
	Relay     *natlab.Proc
	RelayURL  string
	Hub       *Hub
	HubHost   *natlab.Host
	Spokes    []*Spoke
	Journal   *Journal

	lastHubKill time.Time // zero until the hub is killed
}

// NewRig builds the lab, starts relay, hub and spokes, and returns once
// every spoke's first event came back echoed, so the hub knows them all.
func NewRig(t *testing.T, spec RigSpec) *Rig {
	t.Helper()
	nats := []natlab.NATSpec{{Name: "hub", Kind: natlab.EndpointIndependent}}
	for i := range spec.Spokes {
		nats = append(nats, natlab.NATSpec{Name: spokeHost(i), Kind: spokeNATKinds[i%len(spokeNATKinds)]})
	}
	r := &Rig{
		Lab:     natlab.New(t, natlab.Spec{NATs: nats, Public: []string{"relay", "pub"}}),
		Journal: NewJournal(len(spec.Spokes)),
	}
	r.RelayHost = r.Lab.MustHost(t, "relay")
	r.RelayURL, r.Relay = r.RelayHost.StartRelay(t)
	r.HubHost = r.Lab.MustHost(t, "pub")
	if spec.Topology == Relayed {
		r.HubHost = r.Lab.NAT("hub").Host
	}
	r.Hub = StartHub(t, spec.Hub, r.HubHost, r.RelayURL)
	hubArgs := []string{"--hub", r.Hub.ID, "--relay", r.RelayURL}
	if spec.Topology == Direct {
		hubArgs = append(hubArgs, "--addr", r.Hub.Addr())
	}
	for i, kind := range spec.Spokes {
		s := StartSpoke(t, r.Journal, i, kind, r.Lab.NAT(spokeHost(i)).Host, spec.LibIdle, hubArgs...)
		r.Spokes = append(r.Spokes, s)
		s.Send(spec.Interval)
	}
	r.waitEchoes(t)
	r.Journal.MarkSteady()
	return r
}

func spokeHost(i int) string { return fmt.Sprintf("s%d", i) }

// SpokeRouter is the NAT router in front of spoke i.
func (r *Rig) SpokeRouter(i int) *natlab.Host { return r.Lab.NAT(spokeHost(i)).Router }

// SpokeHost is the host spoke i runs on.
func (r *Rig) SpokeHost(i int) *natlab.Host { return r.Lab.NAT(spokeHost(i)).Host }

// waitEchoes waits until every spoke has had an echo.
func (r *Rig) waitEchoes(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, s := range r.Spokes {
		for r.Journal.Tally(i).Echoed == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("chaos: %s spoke %d got no echo from the %s hub:\n%s", s.Kind, i, r.Hub.Kind, s.Proc.Stderr())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// RestartRelay kills the relay with SIGKILL, waits down, and starts it
// again at the same URL.
func (r *Rig) RestartRelay(t *testing.T, down time.Duration) {
	t.Helper()
	r.Relay.Kill()
	time.Sleep(down)
	url, p := r.RelayHost.StartRelay(t)
	if url != r.RelayURL {
		t.Fatalf("chaos: relay came back at %s, was %s", url, r.RelayURL)
	}
	r.Relay = p
}

// Disconnects counts the spokes' "disconnected" status lines.
func (r *Rig) Disconnects() int {
	n := 0
	for _, s := range r.Spokes {
		n += s.Statuses()["disconnected"]
	}
	return n
}
