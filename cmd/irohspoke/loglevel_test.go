package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestLogLevel: the levels and their defaults; lines are JSON with
// microsecond UTC times, and off writes nothing.
func TestLogLevel(t *testing.T) {
	var buf bytes.Buffer
	l, err := parseLogLevel("")
	l = l.or(logOff)
	if err != nil || !l.off {
		t.Fatalf("default off: %+v, %v", l, err)
	}
	l.logger(&buf).Error("dropped")
	if buf.Len() != 0 {
		t.Fatalf("off wrote %q", buf.String())
	}
	if l, err = parseLogLevel("WARN"); err != nil || l.or(logOff).off {
		t.Fatalf("warn: %+v, %v", l, err)
	}
	log := l.logger(&buf)
	log.Info("below the level")
	log.Warn("kept", "k", 1)
	var line struct {
		Time, Level, Msg string
		K                int
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	at, err := time.Parse(time.RFC3339Nano, line.Time)
	if err != nil || len(line.Time) != len("2006-01-02T15:04:05.000000Z") || time.Since(at) > time.Minute || line.Msg != "kept" || line.K != 1 {
		t.Fatalf("line %+v (%v)", line, err)
	}
}
