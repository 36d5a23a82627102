package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRelayUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"relay"}, "--listen is required"},
		{[]string{"relay", "--listen", "nope"}, "want HOST:PORT"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "extra"}, ""},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"}, "must be given together"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--token", ""}, "must not be empty"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--rate", "-1"}, "must not be negative"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--burst", "10"}, "--burst needs --rate"},
		{[]string{"relay", "--bogus"}, ""},
	} {
		r := cli(t, "", tc.args...)
		wantError(t, r, exitUsage, "irohspoke: relay:", tc.want, tc.args...)
	}
}

// TestRelayServes runs the relay command in-process: it prints its URL, the
// URL answers /ping, and cancelling (as SIGTERM does) exits 0 (checked by
// startCLI's cleanup).
func TestRelayServes(t *testing.T) {
	line := startCLI(t, "relay", "--listen", "127.0.0.1:0")
	var ready struct{ RelayURL string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil || !strings.HasPrefix(ready.RelayURL, "http://127.0.0.1:") {
		t.Fatalf("ready line %q: %v", line, err)
	}
	resp, err := http.Get(strings.TrimSuffix(ready.RelayURL, "/") + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/ping: %s", resp.Status)
	}
}
