package main

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
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
		{[]string{"relay", "--listen", "127.0.0.1:0", "--request-timeout", "0s"}, "--request-timeout must be positive"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--idle-timeout", "-1s"}, "--idle-timeout must be positive"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--login-timeout", "0s"}, "--login-timeout must be positive"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--request-timeout", "soon"}, "invalid value"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--max-conns", "-2"}, "--max-conns must be"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--max-conns-per-ip", "0"}, "--max-conns-per-ip must be"},
		{[]string{"relay", "--listen", "127.0.0.1:0", "--max-conns-per-ip", "-5"}, "--max-conns-per-ip must be"},
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

// TestRelayLimitFlags: --max-conns-per-ip 1 closes a second connection
// from 127.0.0.1 at once, --request-timeout closes the first when it sends
// no request in time (the library's default would wait 10 s), and its
// place is then free again.
func TestRelayLimitFlags(t *testing.T) {
	line := startCLI(t, "relay", "--listen", "127.0.0.1:0", "--max-conns-per-ip", "1", "--request-timeout", "1500ms")
	var ready struct{ RelayURL string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(ready.RelayURL, "http://"), "/")
	first := dialTCP(t, addr)
	second := dialTCP(t, addr)
	wantClosed(t, second, time.Second, "second connection, over the per-IP cap,")
	wantClosed(t, first, 6*time.Second, "first connection, silent past --request-timeout,")
	resp, err := http.Get(ready.RelayURL + "ping")
	if err != nil {
		t.Fatalf("/ping once the first connection is gone: %v", err)
	}
	resp.Body.Close()
}

// wantClosed fails unless the server closes c within d.
func wantClosed(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	if n, err := c.Read(make([]byte, 1)); n != 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s not closed within %v: read %d bytes, %v", what, d, n, err)
	}
}

func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
