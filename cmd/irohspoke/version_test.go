package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	r := cli(t, "", "version")
	wantOK(t, r, "version")
	if !strings.HasPrefix(r.stdout, "irohspoke ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Errorf("version printed %q", r.stdout)
	}
}

func TestFormatVersion(t *testing.T) {
	info := &debug.BuildInfo{
		Main: debug.Module{Version: "v0.1.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.time", Value: "2026-08-01T00:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	goLine := runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got, want := formatVersion(info, true), "irohspoke v0.1.0\nrevision abc123 (modified) 2026-08-01T00:00:00Z\n"+goLine; got != want {
		t.Errorf("formatVersion = %q, want %q", got, want)
	}
	if got, want := formatVersion(nil, false), "irohspoke (devel)\n"+goLine; got != want {
		t.Errorf("formatVersion without build info = %q, want %q", got, want)
	}
}
