package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

type hubReady struct {
	EndpointID string   `json:"endpointId"`
	Addrs      []string `json:"addrs"`
	RelayURL   *string  `json:"relayUrl"`
	Ticket     string   `json:"ticket"`
}

// startCLI runs "irohspoke <cmd> args..." in-process and returns the ready
// line it prints; the command is stopped (as by SIGTERM) and must exit 0
// when the test ends.
func startCLI(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{cmd}, args...), strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("%s exited %d: %s", cmd, code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop", cmd)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: no ready line: %v (%s)", cmd, err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	return line
}

// startCLIHub runs "irohspoke hub" in-process and returns its ready line.
func startCLIHub(t *testing.T, args ...string) hubReady {
	t.Helper()
	line := startCLI(t, "hub", args...)
	var r hubReady
	relayed := slices.Contains(args, "--relay")
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.EndpointID == "" || len(r.Addrs) == 0 || (r.RelayURL != nil) != relayed {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return r
}

func TestDialAgainstGoHub(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--secret-hex", k1SecretHex)
	if h.EndpointID != k1Public {
		t.Fatalf("hub id %s, want %s", h.EndpointID, k1Public)
	}
	stdin := `{"type":"chat","id":"1","payload":{"a": 1}}
not json
{"type":"chat","id":"2","payload":null}
`
	r := cli(t, stdin, "dial", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--linger", "1s")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := `{"type":"chat.echo","id":"1","payload":{"a":1}}` + "\n" + `{"type":"chat.echo","id":"2","payload":null}` + "\n"
	if r.stdout != want {
		t.Fatalf("stdout %q, want %q", r.stdout, want)
	}
	for _, s := range []string{`"event":"connected"`, `"path":"direct"`, `"event":"bad_input"`, `"line":2`} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %s: %s", s, r.stderr)
		}
	}
	// By ticket, without --hub.
	r = cli(t, `{"type":"t","id":"x"}`, "dial", "--ticket", h.Ticket, "--linger", "1s")
	if r.code != exitOK || r.stdout != `{"type":"t.echo","id":"x","payload":null}`+"\n" {
		t.Fatalf("dial by ticket: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestDialHandshakeFailures(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"wrong id", []string{"--hub", k1Public, "--addr", h.Addrs[0]}, "does not match"},
		{"wrong alpn", []string{"--hub", h.EndpointID, "--addr", h.Addrs[0], "--alpn", "nope/1"}, "ALPN"},
		{"no answer", []string{"--hub", h.EndpointID, "--addr", "127.0.0.1:9", "--timeout", "300ms"}, "time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, "", append([]string{"dial"}, c.args...)...)
			if r.code != exitConnect || !strings.Contains(r.stderr, c.want) && !(c.want == "time" && strings.Contains(r.stderr, "deadline exceeded")) {
				t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
			}
		})
	}
}

func TestDialHubBadFlags(t *testing.T) {
	cases := [][]string{
		{"dial"},
		{"dial", "--hub", "zz", "--addr", "127.0.0.1:1"},
		{"dial", "--hub", k1Public},
		{"dial", "--hub", k1Public, "--addr", "nope"},
		{"dial", "--ticket", "endpointxyz"},
		{"dial", "--ticket", hubTicket, "--hub", k1Public},
		{"dial", "--hub", k1Public, "--addr", "127.0.0.1:1", "--timeout", "0s"},
		{"dial", "--hub", k1Public, "--addr", "127.0.0.1:1", "--bogus"},
		{"dial", "--hub", k1Public, "--addr", "127.0.0.1:1", "extra"},
		{"hub"},
		{"hub", "--listen", "localhost"},
		{"hub", "--listen", "127.0.0.1:0", "--secret-hex", "abc"},
		{"hub", "--listen", "127.0.0.1:0", "--key", "f", "--secret-hex", k1SecretHex},
		{"hub", "--listen", "127.0.0.1:0", "--relay", "::bad"},
	}
	for _, args := range cases {
		if r := cli(t, "", args...); r.code != exitUsage {
			t.Errorf("irohspoke %q: exit %d, want 2 (stderr %s)", args, r.code, r.stderr)
		}
	}
	r := cli(t, "", "dial", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "Exit status") {
		t.Errorf("dial --help: %d %q", r.code, r.stdout)
	}
}
