package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/spoke"
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
	offline(t, append([]string{cmd}, args...))
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

// startCLIHub runs "irohspoke hub --preset minimal args..." in-process and
// returns its ready line.
func startCLIHub(t *testing.T, args ...string) hubReady {
	t.Helper()
	line := startCLI(t, "hub", append([]string{"--preset", "minimal"}, args...)...)
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
	r := cli(t, stdin, "dial", "--preset", "minimal", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--linger", "1s")
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
	r = cli(t, `{"type":"t","id":"x"}`, "dial", "--preset", "minimal", "--ticket", h.Ticket, "--linger", "1s")
	if r.code != exitOK || r.stdout != `{"type":"t.echo","id":"x","payload":null}`+"\n" {
		t.Fatalf("dial by ticket: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
}

// TestDialHandshakeFailures: each way a first dial fails ends with one
// short JSON error line naming the cause, and exit 3.
func TestDialHandshakeFailures(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	cases := []struct {
		name, kind, want string
		args             []string
	}{
		{"wrong id", kindWrongKey, "wrong hub key: the endpoint that answered is not 197f6b23e1", []string{"--hub", k1Public, "--addr", h.Addrs[0]}},
		{"wrong alpn", kindALPN, "the hub does not speak nope/1", []string{"--hub", h.EndpointID, "--addr", h.Addrs[0], "--alpn", "nope/1"}},
		{"no answer", kindTimeout, "no answer from hub ", []string{"--hub", h.EndpointID, "--addr", "127.0.0.1:9", "--timeout", "300ms"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, "", append([]string{"dial", "--preset", "minimal"}, c.args...)...)
			e := wantJSONError(t, r, exitConnect, c.kind)
			if !strings.Contains(e.Error, c.want) {
				t.Errorf("error %q, want %q", e.Error, c.want)
			}
		})
	}
}

// jsonError is the final line of a dial, hub or lookup-server failure.
type jsonError struct {
	Event, Kind, Error, Hint string
	Exit                     int
}

// wantJSONError checks a run that failed with exit code: nothing on
// stdout, and a last stderr line {"event":"error","kind":kind,...} that
// is one short line.
func wantJSONError(t *testing.T, r result, code int, kind string) jsonError {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	var e jsonError
	if err := json.Unmarshal([]byte(last), &e); err != nil || e.Event != "error" {
		t.Fatalf("last stderr line %q is not an error event (%v); stderr:\n%s", last, err, r.stderr)
	}
	if r.code != code || e.Exit != code || e.Kind != kind || r.stdout != "" {
		t.Errorf("exit %d (line says %d), kind %q, stdout %q; want exit %d, kind %q\nstderr:\n%s", r.code, e.Exit, e.Kind, r.stdout, code, kind, r.stderr)
	}
	if len(e.Error) > 200 || strings.Count(r.stderr, `"event":"error"`) != 1 {
		t.Errorf("error line too long or repeated: %s", r.stderr)
	}
	return e
}

func TestDialHubBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"dial"}, "--hub is required"},
		{[]string{"dial", "--hub", "zz", "--addr", "127.0.0.1:1"}, "invalid --hub"},
		{[]string{"dial", "--hub", k1Public}, "with lookup off"},
		{[]string{"dial", "--hub", k1Public, "--addr", "nope"}, "--addr"},
		{[]string{"dial", "--ticket", "endpointxyz"}, "invalid --ticket"},
		{[]string{"dial", "--ticket", hubTicket, "--hub", k1Public}, "does not match"},
		{[]string{"dial", "--hub", k1Public, "--addr", "127.0.0.1:1", "--timeout", "0s"}, "--timeout"},
		{[]string{"dial", "--hub", k1Public, "--addr", "127.0.0.1:1", "--bogus"}, "unknown flag"},
		{[]string{"dial", "--hub", k1Public, "--addr", "127.0.0.1:1", "extra"}, "unexpected argument"},
		{[]string{"dial", "--hub", k1Public, "--pkarr", "gopher://x"}, "want an http:// or https:// URL"},
		{[]string{"dial", "--hub", k1Public, "--pkarr", "http://"}, "want an http:// or https:// URL"},
		{[]string{"dial", "--hub", k1Public, "--dns", "1.2.3.4:0"}, "port must be 1-65535"},
		{[]string{"dial", "--hub", k1Public, "--dns", "bad host:53"}, "invalid --dns"},
		{[]string{"dial", "--hub", k1Public, "--dns-origin", strings.Repeat("a.", 100) + "org"}, "invalid --dns-origin"},
		{[]string{"dial", "--hub", k1Public, "--lookup=false", "--dns-origin", "x.test"}, "need lookup"},
		{[]string{"dial", "--hub", k1Public, "--publish"}, "--publish needs a pkarr relay"},
		{[]string{"dial", "--hub", k1Public, "--relay", "ftp://x"}, "invalid --relay"},
		{[]string{"dial", "--hub", k1Public, "--lookup=maybe"}, "invalid boolean value"},
		{[]string{"hub", "--listen", "localhost"}, "want IP:PORT"},
		{[]string{"hub", "--listen", "127.0.0.1:0", "--secret-hex", "abc"}, "invalid --secret-hex"},
		{[]string{"hub", "--listen", "127.0.0.1:0", "--key", "f", "--secret-hex", k1SecretHex}, "either --key or --secret-hex"},
		{[]string{"hub", "--listen", "127.0.0.1:0", "--relay", "::bad"}, "invalid --relay"},
	}
	for _, c := range cases {
		args := append([]string{c.args[0], "--preset", "minimal"}, c.args[1:]...)
		wantError(t, cli(t, "", args...), exitUsage, "irohspoke: "+c.args[0]+": ", c.want, args...)
	}
	for _, args := range [][]string{{"dial", "--preset", "n1", "--hub", k1Public}, {"hub", "--preset", ""}} {
		wantError(t, cli(t, "", args...), exitUsage, "irohspoke: "+args[0]+": ", "unknown preset", args...)
	}
	r := cli(t, "", "dial", "--help")
	if r.code != exitOK || !strings.Contains(r.stdout, "Exit status") {
		t.Errorf("dial --help: %d %q", r.code, r.stdout)
	}
}

// TestDialWaitEcho: with --wait-echo a one-shot dial exits on the last
// echo of what it sent, not after --linger (here far longer than the test
// may take); fan-out of other events does not count.
func TestDialWaitEcho(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	stdin := `{"type":"a","id":"1"}
{"type":"b","id":"2"}
{"type":"a","id":"1"}
`
	done := make(chan result, 1)
	go func() {
		done <- cli(t, stdin, "dial", "--preset", "minimal", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--wait-echo", "--linger", "10m")
	}()
	select {
	case r := <-done:
		if r.code != exitOK || strings.Count(r.stdout, ".echo") != 3 {
			t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dial --wait-echo waited for --linger after every echo came back")
	}
}

// TestDialWaitEchoNothingSent: with --wait-echo and no event on stdin no
// echo is owed, so dial exits at the end of stdin instead of waiting out
// --linger (5 s per dial in the lab's time-to-direct benchmark).
func TestDialWaitEchoNothingSent(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	done := make(chan result, 1)
	go func() {
		done <- cli(t, "", "dial", "--preset", "minimal", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--wait-echo", "--linger", "10m")
	}()
	select {
	case r := <-done:
		if r.code != exitOK || r.stdout != "" {
			t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dial --wait-echo with nothing sent waited for --linger")
	}
}

// A path change reports how long after the connection came up it was.
func TestDialPathChangedSinceConnected(t *testing.T) {
	var stderr bytes.Buffer
	d := &dialer{stderr: &stderr, explain: &explainer{}}
	up := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.status(spoke.StatusEvent{Kind: spoke.EventConnected, Time: up, Path: spoke.PathRelay})
	d.status(spoke.StatusEvent{Kind: spoke.EventPathChanged, Time: up.Add(12500 * time.Microsecond), Path: spoke.PathDirect})
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var changed struct {
		Event            string
		SinceConnectedMs float64
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &changed) != nil ||
		changed.Event != "path_changed" || changed.SinceConnectedMs != 12.5 {
		t.Fatalf("status lines %q", lines)
	}
}
