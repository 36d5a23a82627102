package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	hubReadyTimeout = 20 * time.Second
	hubStopTimeout  = 5 * time.Second
)

// ErrHubExitCode means the hub did not exit with status 0 after SIGTERM.
var ErrHubExitCode = errors.New("interop: hub exited with non-zero status")

// HubOptions configure StartHub. The zero value binds 127.0.0.1:0 with a
// random key and no relay.
type HubOptions struct {
	Bind      string // IP:PORT for the IPv4 socket; iroh also binds [::]:random
	SecretHex string // 64 hex chars; random if empty
	RelayURL  string // custom relay (no QUIC port); relay disabled if empty
	// OnlineTimeout bounds the wait for the relay before the ready line
	// (hub default 10 s); the hub starts without a home relay after it.
	OnlineTimeout time.Duration
	LogLevel      string   // iroh log level: Trace, Debug, Info, Warn, Error, Off
	ExtraEnv      []string // KEY=VALUE added to the hub's environment
	// Netns runs the hub inside this named namespace (ip netns exec), which
	// must be an isolated lab (see checkLabNetns); empty means the current
	// namespace, which must then be the loopback-only test namespace.
	Netns string
}

// Hub is a running real iroh hub (interop/node/hub.mjs).
type Hub struct {
	EndpointID string           // lowercase hex
	Addrs      []netip.AddrPort // direct addresses the hub advertises
	RelayURL   string           // home relay, empty if none
	Ticket     string           // iroh endpoint ticket
	Stderr     *LogBuffer       // hub log (JSON lines)

	proc     *nodeProc
	stopOnce sync.Once
	stopErr  error
}

// hubReady is the hub's one stdout line.
type hubReady struct {
	EndpointID string   `json:"endpointId"`
	Addrs      []string `json:"addrs"`
	RelayURL   *string  `json:"relayUrl"`
	Ticket     string   `json:"ticket"`
}

// StartHub starts a real iroh hub and waits for its ready line. The hub is
// killed when the test ends; its log is dumped if the test failed.
func StartHub(t testing.TB, opts HubOptions) *Hub {
	t.Helper()
	requireSafeTarget(t, opts.Netns)
	var args []string
	if opts.Bind != "" {
		args = append(args, "--bind", opts.Bind)
	}
	if opts.SecretHex != "" {
		args = append(args, "--secret-hex", opts.SecretHex)
	}
	if opts.RelayURL != "" {
		args = append(args, "--relay", opts.RelayURL)
	}
	if opts.OnlineTimeout > 0 {
		args = append(args, "--online-timeout-ms", strconv.FormatInt(opts.OnlineTimeout.Milliseconds(), 10))
	}
	if opts.LogLevel != "" {
		args = append(args, "--log-level", opts.LogLevel)
	}
	proc, err := startNode(opts.Netns, "hub.mjs", args, opts.ExtraEnv, false)
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	h := &Hub{Stderr: proc.stderr, proc: proc}
	t.Cleanup(func() {
		h.Kill()
		if t.Failed() {
			t.Logf("hub stderr:\n%s", h.Stderr.String())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), hubReadyTimeout)
	defer cancel()
	line, err := proc.stdout.next(ctx)
	if err != nil {
		t.Fatalf("interop: waiting for hub ready line: %v\nhub stderr:\n%s", err, h.Stderr.String())
	}
	if err := h.parseReady(line); err != nil {
		t.Fatalf("interop: %v", err)
	}
	return h
}

func (h *Hub) parseReady(line []byte) error {
	var r hubReady
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("hub ready line %q: %w", line, err)
	}
	if r.EndpointID == "" || r.Ticket == "" {
		return fmt.Errorf("hub ready line %q lacks endpointId or ticket", line)
	}
	h.EndpointID, h.Ticket = r.EndpointID, r.Ticket
	if r.RelayURL != nil {
		h.RelayURL = *r.RelayURL
	}
	for _, a := range r.Addrs {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return fmt.Errorf("hub address %q: %w", a, err)
		}
		h.Addrs = append(h.Addrs, ap)
	}
	return nil
}

// AddrV4 returns the hub's first IPv4 direct address.
func (h *Hub) AddrV4() (netip.AddrPort, bool) {
	for _, a := range h.Addrs {
		if a.Addr().Is4() {
			return a, true
		}
	}
	return netip.AddrPort{}, false
}

// AddrV6 returns the hub's first IPv6 direct address.
func (h *Hub) AddrV6() (netip.AddrPort, bool) {
	for _, a := range h.Addrs {
		if a.Addr().Is6() {
			return a, true
		}
	}
	return netip.AddrPort{}, false
}

// Stop sends SIGTERM and requires the hub to exit with status 0 within 5 s
// (it is killed otherwise). Later calls return the first result.
func (h *Hub) Stop() error {
	h.stopOnce.Do(func() {
		if h.proc.exited() {
			h.stopErr = fmt.Errorf("%w: hub had already exited (%v)", ErrProcessExited, h.proc.cmd.ProcessState)
			return
		}
		h.proc.signal(syscall.SIGTERM)
		code, err := h.proc.waitExit(hubStopTimeout)
		if err != nil {
			h.proc.kill()
			h.stopErr = fmt.Errorf("hub did not exit after SIGTERM: %w", err)
			return
		}
		if code != 0 {
			h.stopErr = fmt.Errorf("%w: %d", ErrHubExitCode, code)
		}
	})
	return h.stopErr
}

// Kill ends the hub with SIGKILL (no graceful close) and waits for it.
func (h *Hub) Kill() { h.proc.kill() }

// Exited reports whether the hub process has ended.
func (h *Hub) Exited() bool { return h.proc.exited() }
