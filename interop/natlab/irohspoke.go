//go:build linux

package natlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const readyTimeout = 20 * time.Second

// RelayPort is where StartRelay listens.
const RelayPort = 3340

// StartRelay runs "irohspoke relay" (plain HTTP) on the host and returns
// its URL, http://<addr>:3340/.
func (h *Host) StartRelay(t testing.TB) (string, *Proc) {
	t.Helper()
	p := h.Start(t, Irohspoke(t), "relay", "--listen", h.AddrPort(RelayPort).String())
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var ready struct {
		RelayURL string `json:"relayUrl"`
	}
	if err := p.JSONLine(ctx, &ready); err != nil {
		t.Fatal(err)
	}
	if ready.RelayURL == "" {
		t.Fatalf("natlab: relay printed no relayUrl\n%s", p.Stderr())
	}
	return ready.RelayURL, p
}

// QADPort is where StartTLSRelay serves QUIC Address Discovery (UDP).
const QADPort = 7842

// StartTLSRelay runs "irohspoke relay" with TLS (certFile and keyFile,
// PEM) and QUIC Address Discovery on UDP port QADPort of the host, and
// returns its URL, https://<addr>:3340/, and the QAD address.
func (h *Host) StartTLSRelay(t testing.TB, certFile, keyFile string) (string, netip.AddrPort, *Proc) {
	t.Helper()
	p := h.Start(t, Irohspoke(t), "relay", "--listen", h.AddrPort(RelayPort).String(),
		"--tls-cert", certFile, "--tls-key", keyFile, "--qad", h.AddrPort(QADPort).String())
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var ready struct {
		RelayURL string `json:"relayUrl"`
		QADAddr  string `json:"qadAddr"`
	}
	if err := p.JSONLine(ctx, &ready); err != nil {
		t.Fatal(err)
	}
	qad, err := netip.ParseAddrPort(ready.QADAddr)
	if ready.RelayURL == "" || err != nil {
		t.Fatalf("natlab: relay ready line lacks relayUrl or qadAddr (%v)\n%s", err, p.Stderr())
	}
	return ready.RelayURL, qad, p
}

// GoHub is a running "irohspoke hub".
type GoHub struct {
	EndpointID string
	Addrs      []netip.AddrPort
	RelayURL   string // empty if it has no home relay
	Ticket     string
	*Proc
}

// StartGoHub runs "irohspoke hub" on the host, on UDP port 0 of all its
// addresses, staying online at relayURL unless it is empty.
func (h *Host) StartGoHub(t testing.TB, relayURL string) *GoHub {
	t.Helper()
	return h.StartGoHubWith(t, relayURL)
}

// StartGoHubWith is StartGoHub with more hub flags (e.g. "--qad").
func (h *Host) StartGoHubWith(t testing.TB, relayURL string, flags ...string) *GoHub {
	t.Helper()
	args := []string{"hub", "--listen", "0.0.0.0:0"}
	if relayURL != "" {
		args = append(args, "--relay", relayURL)
	}
	args = append(args, flags...)
	p := h.Start(t, Irohspoke(t), args...)
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var ready struct {
		EndpointID string   `json:"endpointId"`
		Addrs      []string `json:"addrs"`
		RelayURL   *string  `json:"relayUrl"`
		Ticket     string   `json:"ticket"`
	}
	if err := p.JSONLine(ctx, &ready); err != nil {
		t.Fatal(err)
	}
	hub := &GoHub{EndpointID: ready.EndpointID, Ticket: ready.Ticket, Proc: p}
	if ready.RelayURL != nil {
		hub.RelayURL = *ready.RelayURL
	}
	for _, a := range ready.Addrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			t.Fatalf("natlab: hub address %q: %v", a, err)
		}
		hub.Addrs = append(hub.Addrs, ap)
	}
	if hub.EndpointID == "" {
		t.Fatalf("natlab: hub ready line lacks endpointId\n%s", p.Stderr())
	}
	return hub
}

// DialResult is one finished "irohspoke dial".
type DialResult struct {
	Code   int    // exit status
	Stdout string // every frame received, one JSON line each
	Stderr string // status lines
}

// Path is the "path" of the first "connected" status line ("direct",
// "relay"), or "" if there is none.
func (r DialResult) Path() string {
	for _, l := range strings.Split(r.Stderr, "\n") {
		if !strings.Contains(l, `"event":"connected"`) {
			continue
		}
		_, rest, ok := strings.Cut(l, `"path":`)
		if !ok {
			return ""
		}
		v, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return ""
		}
		s, _ := strconv.Unquote(v)
		return s
	}
	return ""
}

// Dial runs "irohspoke dial args..." on the host with stdin as its input
// (one envelope per line) until it exits or ctx ends.
func (h *Host) Dial(ctx context.Context, t testing.TB, stdin string, args ...string) DialResult {
	t.Helper()
	cmd := h.Command(ctx, Irohspoke(t), append([]string{"dial"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := DialResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("natlab: running dial on %s: %v", h.Name, err)
	}
	return res
}

// String describes the result for test failures.
func (r DialResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}
