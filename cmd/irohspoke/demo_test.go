package main

import (
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	r := cli(t, "", "demo", "--events", "200", "--size", "512")
	if r.code != exitOK {
		t.Fatalf("demo exit %d:\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"path direct", "path relay", "fan-out", "A got chat.echo, B got chat", "events/s", "p99", "exactly once"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDemoUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--events", "0"},
		{"demo", "--size", "-1"},
		{"demo", "extra"},
	} {
		wantError(t, cli(t, "", args...), exitUsage, "irohspoke: demo:", "", args...)
	}
}
