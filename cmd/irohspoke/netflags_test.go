package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/alkdev/irohspoke/endpoint"
)

// TestNetFlagErrors: --qad needs a relay, --qad-port a port and
// --relay-ca a PEM certificate; all are usage errors, found before any
// network activity.
func TestNetFlagErrors(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	const id = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6"
	cases := []struct {
		name, prefix, want string
		args               []string
	}{
		{"hub qad without relay", "irohspoke: hub:", "--qad needs a relay", []string{"hub", "--preset", "minimal", "--qad"}},
		{"hub qad port 0", "irohspoke: hub:", "--qad-port must be 1-65535", []string{"hub", "--preset", "minimal", "--relay", "https://relay.test/", "--qad", "--qad-port", "0"}},
		{"hub qad port too big", "irohspoke: hub:", "--qad-port must be 1-65535", []string{"hub", "--preset", "minimal", "--qad-port", "70000"}},
		{"hub relay-ca not PEM", "irohspoke: hub:", "no PEM certificate", []string{"hub", "--preset", "minimal", "--relay-ca", notPEM}},
		{"hub relay-ca missing", "irohspoke: hub:", "--relay-ca", []string{"hub", "--preset", "minimal", "--relay-ca", notPEM + ".missing"}},
		{"hub bad log level", "irohspoke: hub:", "--log-level \"loud\"", []string{"hub", "--preset", "minimal", "--log-level", "loud"}},
		{"dial bad log level", "irohspoke: dial:", "--log-level \"trace\"", []string{"dial", "--preset", "minimal", "--hub", id, "--addr", "127.0.0.1:1", "--log-level", "trace"}},
		{"dial qad without relay", "irohspoke: dial:", "--qad needs a relay", []string{"dial", "--preset", "minimal", "--hub", id, "--addr", "127.0.0.1:1", "--qad"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, cli(t, "", tc.args...), exitUsage, tc.prefix, tc.want, tc.args...)
		})
	}
}

// resolveNet parses endpoint flags as dial and hub do, without binding.
func resolveNet(t *testing.T, args ...string) *netSetup {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	nf := addNetFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	ns, err := nf.resolve()
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	t.Cleanup(ns.close)
	return ns
}

// TestZeroConfigIsN0: with no flags, dial and hub get iroh's defaults
// (n0's relays with QAD, lookup under dns.iroh.link, publishing to n0's
// pkarr relay), and each flag changes only its part.
func TestZeroConfigIsN0(t *testing.T) {
	t.Setenv(endpoint.StagingEnv, "")
	p := resolveNet(t).opts.Preset
	if p.Name != "n0" || len(p.Relays) != 4 || !p.QAD || !p.Publish || !p.PortMapping || p.PkarrURL != "https://dns.iroh.link/pkarr" || p.DNSOrigin != "dns.iroh.link." {
		t.Fatalf("zero-config preset %+v", p)
	}
	if ns := resolveNet(t); ns.opts.Lookup != nil || ns.lookup != "DNS zone dns.iroh.link." || ns.opts.RelayTLS != nil || ns.opts.DisableMultipath {
		t.Fatalf("zero-config options %+v (lookup %q)", ns.opts, ns.lookup)
	}

	ns := resolveNet(t, "--relay", "https://r.test/", "--relay", "http://127.0.0.1:3340", "--qad-port", "9999", "--publish=false")
	want := []endpoint.RelayNode{{URL: "https://r.test/", QADPort: 9999}, {URL: "http://127.0.0.1:3340/"}}
	if p := ns.opts.Preset; !slices.Equal(p.Relays, want) || p.Publish || !p.QAD || p.DNSOrigin == "" {
		t.Fatalf("--relay/--publish=false: %+v", p)
	}
	// An explicit --qad asks a plain-HTTP relay's host too (a QAD server
	// may run next to it, as in the NAT lab).
	ns = resolveNet(t, "--preset", "minimal", "--relay", "http://127.0.0.1:3340", "--qad")
	if p := ns.opts.Preset; !p.QAD || !slices.Equal(p.Relays, []endpoint.RelayNode{{URL: "http://127.0.0.1:3340/", QADPort: 7842}}) {
		t.Fatalf("--relay http://... --qad: %+v", p)
	}
	if p := resolveNet(t, "--qad=false", "--lookup=false", "--portmap=false").opts.Preset; p.QAD || p.DNSOrigin != "" || p.PortMapping || len(p.Relays) != 4 {
		t.Fatalf("--qad=false --lookup=false --portmap=false: %+v", p)
	}
	ns = resolveNet(t, "--pkarr", "http://127.0.0.1:1/pkarr", "--dns-origin", "zone.test")
	if ns.opts.Preset.PkarrURL != "http://127.0.0.1:1/pkarr" || ns.opts.Lookup == nil || ns.lookup != "DNS zone zone.test and pkarr relay http://127.0.0.1:1/pkarr" {
		t.Fatalf("--pkarr --dns-origin: %+v, lookup %q", ns.opts, ns.lookup)
	}
	p = resolveNet(t, "--preset", "minimal").opts.Preset
	if len(p.Relays) != 0 || p.QAD || p.Publish || p.PortMapping || p.DNSOrigin != "" || !p.DualStack {
		t.Fatalf("minimal: %+v", p)
	}
	if ns := resolveNet(t, "--preset", "minimal", "--dns", "localhost:5353"); ns.opts.Lookup == nil || ns.lookup != "DNS zone "+defaultDNSOrigin {
		t.Fatalf("minimal --dns HOST:PORT: lookup %v %q", ns.opts.Lookup, ns.lookup)
	}
	t.Setenv(endpoint.StagingEnv, "1")
	if p := resolveNet(t).opts.Preset; p.Name != "n0-staging" {
		t.Fatalf("with %s set: preset %q", endpoint.StagingEnv, p.Name)
	}
}
