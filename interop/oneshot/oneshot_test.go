package oneshot

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

const envelope = `{"type":"t","id":"1","payload":1}`

// phases of one "irohspoke dial", from the process start.
type phases struct {
	wall, init, connecting, connected, echo time.Duration
}

// add accumulates; div averages.
func (p *phases) add(q phases) {
	p.wall += q.wall
	p.init += q.init
	p.connecting += q.connecting
	p.connected += q.connected
	p.echo += q.echo
}

// BenchmarkOneShot: one process per iteration that connects to a hub on
// loopback, gets one echo back and exits.
func BenchmarkOneShot(b *testing.B) {
	dir := b.TempDir()
	irohspoke, irohspokeLinked := build(b, dir, "./cmd/irohspoke")
	qg, _ := build(b, dir, "./interop/oneshot/qgoneshot")

	// Ours: "connecting" comes after start-up (runtime, init, flags, key,
	// bind), "connected" after the handshake, the echo after one round
	// trip on a stream; the rest is closing and exit.
	ready := startHub(b, irohspoke)
	b.Run("irohspoke", func(b *testing.B) { benchDial(b, irohspoke, ready) })
	// The same dial run straight from the linker's output (see install).
	b.Run("irohspoke-as-linked", func(b *testing.B) { benchDial(b, irohspokeLinked, ready) })

	// The baseline: the same one-shot with quic-go on both ends, X.509.
	b.Run("quic-go-x509", func(b *testing.B) {
		cert := filepath.Join(b.TempDir(), "cert.pem")
		addr := server(b, qg, "server", "127.0.0.1:0", cert)
		var wall time.Duration
		n := 0
		for b.Loop() {
			r := runOnce(b, "", nil, qg, "client", addr, cert)
			if len(r.stdout) != 1 || r.stdout[0].line != envelope {
				b.Fatalf("quic-go echo %v", r.stdout)
			}
			wall += r.wall
			n++
		}
		b.ReportMetric(ms(wall)/float64(n), "ms/oneshot")
	})

	// What any run of our binary costs: exec, runtime start, init, exit.
	b.Run("irohspoke-version", func(b *testing.B) {
		var wall, init time.Duration
		n := 0
		for b.Loop() {
			r := runOnce(b, "", []string{"GODEBUG=inittrace=1"}, irohspoke, "version")
			wall += r.wall
			init += initTime(r.stderr)
			n++
		}
		b.ReportMetric(ms(wall)/float64(n), "ms/oneshot")
		b.ReportMetric(ms(init)/float64(n), "ms-init")
	})
}

// dialPhases reads one dial's status lines and checks its echo.
func dialPhases(b *testing.B, r run) phases {
	b.Helper()
	p := phases{wall: r.wall, init: initTime(r.stderr)}
	var ok1, ok2, ok3 bool
	p.connecting, ok1 = first(r.stderr, `"event":"connecting"`)
	p.connected, ok2 = first(r.stderr, `"event":"connected"`)
	p.echo, ok3 = first(r.stdout, `"t.echo"`)
	if !ok1 || !ok2 || !ok3 || len(r.stdout) != 1 {
		b.Fatalf("dial output incomplete:\nstdout %v\nstderr %v", r.stdout, r.stderr)
	}
	return p
}

// hubReady is the hub's ready line.
type hubReady struct {
	EndpointID string   `json:"endpointId"`
	Addrs      []string `json:"addrs"`
}

// startHub runs "irohspoke hub" on loopback for the whole benchmark.
func startHub(b *testing.B, irohspoke string) hubReady {
	var ready hubReady
	if err := json.Unmarshal([]byte(server(b, irohspoke, "hub", "--preset", "minimal", "--listen", "127.0.0.1:0")), &ready); err != nil || len(ready.Addrs) == 0 {
		b.Fatalf("hub ready line: %v %+v", err, ready)
	}
	return ready
}

// benchDial measures one-shot dials of bin against the hub and reports
// their phases.
func benchDial(b *testing.B, bin string, hub hubReady) {
	var sum phases
	n := 0
	for b.Loop() {
		r := runOnce(b, envelope+"\n", []string{"GODEBUG=inittrace=1"}, bin, "dial", "--preset", "minimal",
			"--hub", hub.EndpointID, "--addr", hub.Addrs[0], "--no-reconnect", "--wait-echo", "--linger", "2s")
		sum.add(dialPhases(b, r))
		n++
	}
	avg := func(d time.Duration) float64 { return ms(d) / float64(n) }
	b.ReportMetric(avg(sum.wall), "ms/oneshot")
	b.ReportMetric(avg(sum.init), "ms-init")
	b.ReportMetric(avg(sum.connecting), "ms-to-connecting")
	b.ReportMetric(avg(sum.connected-sum.connecting), "ms-handshake")
	b.ReportMetric(avg(sum.echo-sum.connected), "ms-echo")
	b.ReportMetric(avg(sum.wall-sum.echo), "ms-close-exit")
}
