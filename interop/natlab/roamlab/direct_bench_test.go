//go:build linux

package roamlab_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/interop/natlab"
	"github.com/alkdev/irohspoke/interop/natlab/roamlab"
)

// directCell places the hub and the spoke: nil is the public segment.
type directCell struct {
	name       string
	hub, spoke *roamlab.RouterSpec
}

var (
	plainNAT  = &roamlab.RouterSpec{Kind: natlab.EndpointIndependent}
	upnpNAT   = &roamlab.RouterSpec{Kind: natlab.EndpointIndependent, UPnP: true}
	randomNAT = &roamlab.RouterSpec{Kind: natlab.RandomPort, UPnP: true}
)

var directCells = []directCell{
	{name: "hub-public", spoke: plainNAT},
	{name: "spoke-public", hub: plainNAT},
	{name: "both-public"},
	{name: "both-nat-upnp", hub: upnpNAT, spoke: upnpNAT},
	{name: "spoke-random-nat-upnp", spoke: randomNAT},
}

// BenchmarkTimeToDirect: per cell, how long a connection made on the
// relay takes to select a direct path, for our spoke to a real iroh hub
// (a), a real iroh spoke to our hub (b) and iroh to iroh (c, the
// reference), in one lab: medians over the samples (each is logged);
// ratio-a and ratio-b are ours over iroh's.
// The relay is plain HTTP (iroh trusts only its built-in roots), so iroh
// has no QAD here, and neither do we.
func BenchmarkTimeToDirect(b *testing.B) {
	for _, c := range directCells {
		b.Run(c.name, func(b *testing.B) {
			var samples [3][]time.Duration
			for b.Loop() {
				d := c.measure(b, len(samples[0])%2 == 1)
				for i := range samples {
					samples[i] = append(samples[i], d[i])
				}
				b.Logf("sample %s: ours->iroh %v, iroh->ours %v, iroh->iroh %v", c.name, d[0], d[1], d[2])
			}
			// Medians: single samples range from 5 to 50 ms.
			var med [3]time.Duration
			for i := range med {
				med[i] = median(samples[i])
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(med[0]), "ms-a-ours-to-iroh")
			b.ReportMetric(ms(med[1]), "ms-b-iroh-to-ours")
			b.ReportMetric(ms(med[2]), "ms-c-iroh-to-iroh")
			b.ReportMetric(float64(med[0])/float64(med[2]), "ratio-a")
			b.ReportMetric(float64(med[1])/float64(med[2]), "ratio-b")
			// Paired: each sample's b and c ran back to back in one lab, so
			// the median of b_i/c_i cancels what drifts between samples; hi
			// is its 95% bootstrap bound, the figure "b <= c" rests on.
			for i, name := range []string{"a", "b"} {
				m, lo, hi := pairedRatio(samples[i], samples[2])
				b.ReportMetric(m, "paired-"+name)
				b.ReportMetric(hi, "paired-"+name+"-hi")
				b.Logf("paired %s/c %s: median %.3f, 95%% interval [%.3f, %.3f]", name, c.name, m, lo, hi)
			}
			b.Logf("median time to direct %s over %d: ours->iroh %v, iroh->ours %v, iroh->iroh %v",
				c.name, len(samples[0]), med[0], med[1], med[2])
		})
	}
}

// ttdLog: TTD_LOG=1 logs each sample's spokes at debug level (ours with
// microsecond times), to see where a slow sample spent its time. The
// logging itself costs time: compare figures only from runs without it.
// TTD_LEVEL sets the iroh spokes' level instead of Debug (Trace shows
// noq's packets). TTD_DIAL_ARGS adds flags to our dial (say --portmap=false), for
// experiments.
func ttdLog() bool { return os.Getenv("TTD_LOG") != "" }

// pairedRatio is the median of num[i]/den[i] with a 95% percentile
// bootstrap interval (2000 resamples, fixed seed, so a rerun over the
// same samples prints the same figures). Samples with den 0 are left out.
func pairedRatio(num, den []time.Duration) (med, lo, hi float64) {
	var r []float64
	for i := range min(len(num), len(den)) {
		if den[i] > 0 {
			r = append(r, float64(num[i])/float64(den[i]))
		}
	}
	if len(r) == 0 {
		return 0, 0, 0
	}
	rng := rand.New(rand.NewPCG(1, 2))
	boot := make([]float64, 2000)
	re := make([]float64, len(r))
	for k := range boot {
		for j := range re {
			re[j] = r[rng.IntN(len(r))]
		}
		boot[k] = median(re)
	}
	slices.Sort(boot)
	return median(r), boot[len(boot)*25/1000], boot[len(boot)*975/1000-1]
}

// median of xs; the mean of the middle two if even. It sorts a copy: the
// samples stay in order, paired by index.
func median[T time.Duration | float64](xs []T) T {
	xs = slices.Sorted(slices.Values(xs))
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// measure builds the cell's lab and returns the three times to direct.
// reverse runs them last to first: alternating cancels what one
// measurement leaves behind for the next (hub and spoke processes
// winding down, caches).
func (c directCell) measure(b *testing.B, reverse bool) [3]time.Duration {
	lab := roamlab.New(b)
	relayURL, _ := lab.Public(b, "relay").StartRelay(b)
	hubHost := c.place(b, lab, "hub", c.hub)
	spokeHost := c.place(b, lab, "spoke", c.spoke)
	goHub := startGoHub(b, hubHost, relayURL)
	irohHub := startIrohHub(b, hubHost, relayURL)
	// A hub's first connection costs it more CPU (Go and Node alike): each
	// hub serves one before the measured ones, which then all find it warm.
	irohSpokeToDirect(b, spokeHost, goHub.id, relayURL)
	irohSpokeToDirect(b, spokeHost, irohHub.id, relayURL)
	runs := [3]func() time.Duration{
		func() time.Duration { return ourSpokeToDirect(b, spokeHost, irohHub.id, relayURL) },
		func() time.Duration { return irohSpokeToDirect(b, spokeHost, goHub.id, relayURL) },
		func() time.Duration { return irohSpokeToDirect(b, spokeHost, irohHub.id, relayURL) },
	}
	var d [3]time.Duration
	for i := range runs {
		if reverse {
			i = len(runs) - 1 - i
		}
		d[i] = runs[i]()
	}
	return d
}

// place puts a host on the public segment or behind a router of spec.
func (c directCell) place(b testing.TB, lab *roamlab.Lab, name string, spec *roamlab.RouterSpec) *natlab.Host {
	if spec == nil {
		return lab.Public(b, name)
	}
	h := lab.Host(b, name)
	if err := lab.Attach(b, h, lab.Router(b, name[:1], *spec)).Up(); err != nil {
		b.Fatal(err)
	}
	return h
}

// ourSpokeToDirect: "irohspoke dial" connected on the relay, until its
// path_changed direct line; the dial's own clock (sinceConnectedMs), as
// iroh's is used for iroh (which polls its paths every millisecond on top).
//
// The hub's candidates come with the handshake, so a round may open the
// direct path before the dial reports "connected" (after the stream is
// open): then it is direct at once and counts as 0, the one case the
// dial's clock cannot resolve.
func ourSpokeToDirect(b *testing.B, h *natlab.Host, hubID, relayURL string) time.Duration {
	args := []string{"--hub", hubID, "--relay", relayURL}
	if x := os.Getenv("TTD_DIAL_ARGS"); x != "" {
		args = append(args, strings.Fields(x)...)
	}
	if ttdLog() {
		args = append(args, "--log-level", "debug")
	}
	s := dial(b, h, "direct", "", args...)
	if ttdLog() {
		defer func() { b.Logf("dial stderr:\n%s", s.p.Stderr()) }()
	}
	if s.hasStatus("connected", "direct") {
		s.finish()
		b.Logf("our dial was direct when it reported connected: 0 ms")
		return 0
	}
	s.waitStatus("path_changed", "direct")
	s.finish()
	for _, l := range strings.Split(s.p.Stderr(), "\n") {
		var st struct {
			Event, Path      string
			SinceConnectedMs *float64
		}
		if json.Unmarshal([]byte(l), &st) == nil && st.Event == "path_changed" && st.Path == "direct" && st.SinceConnectedMs != nil {
			return time.Duration(*st.SinceConnectedMs * float64(time.Millisecond))
		}
	}
	b.Fatalf("path_changed direct without sinceConnectedMs:\n%s", s.p.Stderr())
	return 0
}

// irohSpokeToDirect: a real iroh spoke (interop/node/spoke.mjs
// --watch-paths) dialing by id and relay, until it selects a non-relay
// path; iroh's own clock, from the connection being made.
func irohSpokeToDirect(b *testing.B, h *natlab.Host, hubID, relayURL string) time.Duration {
	nodeDir, err := interop.NodeDir()
	if err != nil {
		b.Fatal(err)
	}
	args := []string{filepath.Join(nodeDir, "spoke.mjs"), "--listen", "--watch-paths",
		"--id", hubID, "--relay", relayURL, "--bind", "0.0.0.0:0"}
	if ttdLog() {
		lv := "Debug"
		if x := os.Getenv("TTD_LEVEL"); x != "" {
			lv = x
		}
		args = append(args, "--log-level", lv)
	}
	p := h.Start(b, "node", args...)
	if ttdLog() {
		defer func() { b.Logf("iroh spoke stderr:\n%s", p.Stderr()) }()
	}
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(p.Stderr(), "\n") {
			var sel struct {
				Event string
				Relay bool
				MS    float64
			}
			if json.Unmarshal([]byte(l), &sel) == nil && sel.Event == "path_selected" && !sel.Relay {
				_ = p.Stop()
				return time.Duration(sel.MS * float64(time.Millisecond))
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("iroh spoke never selected a direct path:\n%s", p.Stderr())
	return 0
}
