package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestQADFlagErrors: --qad needs a relay, --qad-port a port and
// --relay-ca a PEM certificate; all are usage errors, found before any
// network activity.
func TestQADFlagErrors(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	const id = "ae58ff8833241ac82d6ff7611046ed67b5072d142c588d0063e942d9a75502b6"
	cases := []struct {
		name, prefix, want string
		args               []string
	}{
		{"hub qad without relay", "irohspoke: hub:", "--qad needs a relay", []string{"hub", "--listen", "127.0.0.1:0", "--qad"}},
		{"hub qad port 0", "irohspoke: hub:", "--qad-port must be 1-65535", []string{"hub", "--listen", "127.0.0.1:0", "--relay", "https://relay.test/", "--qad", "--qad-port", "0"}},
		{"hub qad port too big", "irohspoke: hub:", "--qad-port must be 1-65535", []string{"hub", "--listen", "127.0.0.1:0", "--qad-port", "70000"}},
		{"hub relay-ca not PEM", "irohspoke: hub:", "no PEM certificate", []string{"hub", "--listen", "127.0.0.1:0", "--relay-ca", notPEM}},
		{"hub relay-ca missing", "irohspoke: hub:", "--relay-ca", []string{"hub", "--listen", "127.0.0.1:0", "--relay-ca", notPEM + ".missing"}},
		{"dial qad without relay", "irohspoke: dial:", "--qad needs a relay", []string{"dial", "--hub", id, "--addr", "127.0.0.1:1", "--qad"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, cli(t, "", tc.args...), exitUsage, tc.prefix, tc.want, tc.args...)
		})
	}
}
