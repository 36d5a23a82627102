package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
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
// URL answers /ping, and cancelling (as SIGTERM does) exits 0.
func TestRelayServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(ctx, []string{"relay", "--listen", "127.0.0.1:0"}, strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v (stderr %q)", err, stderr.String())
	}
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
	go io.Copy(io.Discard, pr)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not shut down")
	}
}
