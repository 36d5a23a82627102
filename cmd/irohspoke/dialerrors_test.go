package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/relay"
)

const echoLine = `{"type":"e","id":"1","payload":null}`

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// quietTLSServer is httptest.NewTLSServer without the log lines of the
// handshakes that are meant to fail.
func quietTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// TestDialRelayFailuresSayWhy: a relay that refuses the connection or
// whose certificate we do not trust is reported as such, at once, not as
// a handshake timeout.
func TestDialRelayFailuresSayWhy(t *testing.T) {
	tlsRelay := quietTLSServer(t, relay.NewServer(relay.ServerConfig{}))
	cases := []struct {
		name, relay, kind, want string
	}{
		{"refused", "http://" + closedPort(t) + "/", kindRelayRefused, "connection refused"},
		{"untrusted certificate", tlsRelay.URL + "/", kindRelayTLS, "certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := cli(t, echoLine, "dial", "--preset", "minimal", "--hub", k1Public, "--relay", c.relay, "--timeout", "20s")
			e := wantJSONError(t, r, exitConnect, c.kind)
			if !strings.Contains(e.Error, c.want) || !strings.HasPrefix(e.Error, "relay unreachable: "+c.relay) || e.Hint == "" {
				t.Errorf("error %q hint %q, want the relay and %q", e.Error, e.Hint, c.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v: the relay failure waited for the handshake timeout", d)
			}
		})
	}
}

// TestRelayCAAddsToSystemRoots: --relay-ca lets hub and dial use a relay
// with a private CA, and the trust it builds still holds the default
// roots (it adds to them, as its help says).
func TestRelayCAAddsToSystemRoots(t *testing.T) {
	srv := relay.NewServer(relay.ServerConfig{})
	ts := quietTLSServer(t, srv)
	t.Cleanup(func() { srv.Close() })
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	url := ts.URL + "/"
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--relay", url, "--relay-ca", caFile)
	if h.RelayURL == nil || *h.RelayURL != url {
		t.Fatalf("hub not online at the TLS relay: %+v", h)
	}
	r := cli(t, echoLine, "dial", "--preset", "minimal", "--hub", h.EndpointID, "--relay", url, "--relay-ca", caFile, "--linger", "500ms", "--multipath=false")
	if r.code != exitOK || !strings.Contains(r.stdout, `"e.echo"`) || !strings.Contains(r.stderr, `"path":"relay"`) {
		t.Fatalf("dial through the TLS relay: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}

	pool, err := relayRoots(caFile)
	if err != nil {
		t.Fatal(err)
	}
	// Subjects is deprecated for system pools on some platforms only;
	// these pools are built from PEM.
	have := map[string]bool{}
	for _, s := range pool.Subjects() {
		have[string(s)] = true
	}
	want := append(relay.FallbackRoots().Subjects(), ts.Certificate().RawSubject)
	for _, s := range want {
		if !have[string(s)] {
			t.Fatalf("--relay-ca trust lacks a default root or the CA (%d subjects)", len(have))
		}
	}
}

// TestRelayTokenFiles: "relay --token-file" admits only holders of a
// token, "hub/dial --relay-token-file" present it, and a spoke without
// one is told the relay denied it.
func TestRelayTokenFiles(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("# relay tokens\nsecret-one\n\nsecret-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	two := filepath.Join(dir, "two")
	if err := os.WriteFile(two, []byte("secret-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ready struct{ RelayURL string }
	if err := json.Unmarshal([]byte(startCLI(t, "relay", "--listen", "127.0.0.1:0", "--token-file", tokens)), &ready); err != nil {
		t.Fatal(err)
	}
	h := startCLIHub(t, "--listen", "127.0.0.1:0", "--relay", ready.RelayURL, "--relay-token-file", two)
	if h.RelayURL == nil {
		t.Fatal("hub with the token is not online at the relay")
	}
	args := []string{"dial", "--preset", "minimal", "--hub", h.EndpointID, "--relay", ready.RelayURL, "--multipath=false", "--linger", "500ms"}
	if r := cli(t, echoLine, append(args, "--relay-token-file", two)...); r.code != exitOK || !strings.Contains(r.stdout, "e.echo") {
		t.Fatalf("dial with the token: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	wantJSONError(t, cli(t, echoLine, append(args, "--timeout", "5s")...), exitConnect, kindRelayDenied)

	for _, bad := range []string{filepath.Join(dir, "missing"), tokens} {
		args := []string{"hub", "--preset", "minimal", "--listen", "127.0.0.1:0", "--relay", ready.RelayURL, "--relay-token-file", bad}
		if r := cli(t, "", args...); r.code != exitFailure || !strings.Contains(r.stderr, "--relay-token-file") {
			t.Errorf("%q: exit %d, stderr %s", args, r.code, r.stderr)
		}
	}
}

// TestDialLookupFailuresSayWhere: a hub unknown in the zone, and a DNS
// server that refuses the zone, each give one error line naming the zone.
func TestDialLookupFailuresSayWhere(t *testing.T) {
	ls := startLookupServer(t, "--http", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--origin", "dns.test")
	base := []string{"dial", "--preset", "minimal", "--hub", k1Public, "--dns", *ls.DNS, "--timeout", "5s"}
	base = base[:len(base):len(base)] // the subtests append in parallel
	// Each waits out iroh's staggered DNS attempts (3 s); run them at once.
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		e := wantJSONError(t, cli(t, "", append(base, "--dns-origin", "dns.test")...), exitConnect, kindNotFound)
		if !strings.Contains(e.Error, "dns.test") || e.Hint == "" {
			t.Errorf("not found: %+v", e)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		e := wantJSONError(t, cli(t, "", append(base, "--dns-origin", "elsewhere.test")...), exitConnect, kindLookup)
		if !strings.Contains(e.Error, "refused") || !strings.Contains(e.Error, "elsewhere.test") || !strings.Contains(e.Hint, "--dns-origin") {
			t.Errorf("refused: %+v", e)
		}
	})
}

// TestDialSkipsOverlongLine: a stdin line longer than a frame can be is
// reported as bad_input and skipped; the lines around it are sent.
func TestDialSkipsOverlongLine(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	long := `{"type":"big","id":"2","payload":"` + strings.Repeat("x", maxInputLine) + `"}`
	stdin := `{"type":"a","id":"1"}` + "\n" + long + "\n" + `{"type":"c","id":"3"}` + "\n"
	r := cli(t, stdin, "dial", "--preset", "minimal", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--linger", "500ms")
	want := `{"type":"a.echo","id":"1","payload":null}` + "\n" + `{"type":"c.echo","id":"3","payload":null}` + "\n"
	if r.code != exitOK || r.stdout != want {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, `"event":"bad_input"`) || !strings.Contains(r.stderr, `"line":2`) || !strings.Contains(r.stderr, "line too long") {
		t.Fatalf("no bad_input for line 2: %s", r.stderr)
	}
}

// TestDialKeyLog: --keylog writes the TLS secrets; SSLKEYLOGFILE alone
// writes nothing.
func TestDialKeyLog(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	dir := t.TempDir()
	envFile, flagFile := filepath.Join(dir, "env.log"), filepath.Join(dir, "flag.log")
	t.Setenv("SSLKEYLOGFILE", envFile)
	args := []string{"dial", "--preset", "minimal", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--linger", "0s"}
	if r := cli(t, echoLine, args...); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(envFile); !os.IsNotExist(err) {
		t.Fatalf("SSLKEYLOGFILE alone turned key logging on (%v)", err)
	}
	if r := cli(t, echoLine, append(args, "--keylog", flagFile)...); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(flagFile)
	if err != nil || !strings.Contains(string(b), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") || !strings.Contains(string(b), "CLIENT_TRAFFIC_SECRET_0 ") {
		t.Fatalf("key log %q: %v", b, err)
	}
	if st, _ := os.Stat(flagFile); st.Mode().Perm() != 0o600 {
		t.Errorf("key log mode %v, want 0600", st.Mode().Perm())
	}
}

// TestDialSecretFromStdin: "--secret-hex -" takes the key from the first
// stdin line and leaves the envelopes after it alone.
func TestDialSecretFromStdin(t *testing.T) {
	h := startCLIHub(t, "--listen", "127.0.0.1:0")
	r := cli(t, k1SecretHex+"\n"+echoLine+"\n", "dial", "--preset", "minimal", "--secret-hex", "-", "--hub", h.EndpointID, "--addr", h.Addrs[0], "--linger", "500ms")
	if r.code != exitOK || r.stdout != `{"type":"e.echo","id":"1","payload":null}`+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
}

// TestServeFailuresAreJSON: hub and lookup-server log JSON on stderr, so
// a failure to start ends with a JSON error line too (exit 1).
func TestServeFailuresAreJSON(t *testing.T) {
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	for _, args := range [][]string{
		{"hub", "--preset", "minimal", "--listen", udp.LocalAddr().String()},
		{"lookup-server", "--http", tcp.Addr().String()},
	} {
		e := wantJSONError(t, cli(t, "", args...), exitFailure, kindRuntime)
		if !strings.Contains(e.Error, "address already in use") {
			t.Errorf("%q: error %q", args, e.Error)
		}
	}
}
