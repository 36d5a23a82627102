package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"
)

const listenerReadyTimeout = 20 * time.Second

var (
	// ErrSpokeFailed means the Node spoke ran but reported failure.
	ErrSpokeFailed = errors.New("interop: iroh spoke failed")
	// ErrBadOutput means a Node script printed something unparseable.
	ErrBadOutput = errors.New("interop: unexpected output from node script")
)

// SpokeOptions configure a real iroh spoke (interop/node/spoke.mjs). The
// target is ID plus Addrs and/or RelayURL, or Ticket, or with Preset "n0"
// the ID alone (iroh then looks the hub up itself).
type SpokeOptions struct {
	ID       string // hub EndpointId (hex or what iroh's parser takes)
	Addrs    []netip.AddrPort
	RelayURL string
	Ticket   string
	// Preset is the iroh endpoint preset: "minimal" (the default: no
	// relays or lookup unless given) or "n0" (n0's default relays and
	// address lookup: pkarr at dns.iroh.link and DNS TXT queries for
	// origin dns.iroh.link. through the system resolver). Only use "n0"
	// in a namespace whose resolver the test controls (NetnsOptions).
	Preset string

	Count            int           // envelopes to send, each waiting for its echo
	Size             int           // payload data bytes per envelope
	ExpectBroadcasts int           // fan-out frames that must arrive
	Linger           time.Duration // keep reading after the checks
	Timeout          time.Duration // per step inside the spoke; 15 s if zero

	SecretHex string // spoke key, random if empty
	ALPN      string // default alkpubsub/1
	Bind      string // default 127.0.0.1:0
	Name      string // prefix of envelope ids
	PrintSent bool   // return the sent frame bodies in SpokeResult.Sent
	// SendRaw bodies are framed and sent before the envelopes; each must
	// be malformed and draw an "error" envelope (see SpokeResult.Errors).
	SendRaw [][]byte
	// Oversize announces a frame over 16 MiB instead of sending envelopes;
	// success means the hub closed the connection (SpokeResult.CloseReason).
	Oversize bool
	LogLevel string   // iroh log level
	ExtraEnv []string // KEY=VALUE for the process
	// Netns runs the spoke inside this named namespace, as HubOptions.Netns.
	Netns string
}

// SpokePath is one network path of the spoke's connection.
type SpokePath struct {
	RemoteAddr string `json:"remoteAddr"` // ip:port, or the relay URL
	IsRelay    bool   `json:"isRelay"`
	IsSelected bool   `json:"isSelected"`
}

// RTTStats summarise per-envelope round trips in milliseconds.
type RTTStats struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

// SpokeResult is the spoke's result line.
type SpokeResult struct {
	OK         bool      `json:"ok"`
	Echoes     int       `json:"echoes"`
	Broadcasts int       `json:"broadcasts"`
	ConnectMs  *float64  `json:"connectMs"`
	RTTMs      *RTTStats `json:"rttMs"`
	Error      *string   `json:"error"`
	EndpointID string    `json:"endpointId"` // the spoke's own id
	RemoteID   string    `json:"remoteId"`
	Sent       [][]byte  `json:"sent"` // frame bodies, with PrintSent
	// Errors are the hub's error envelopes for SendRaw, in order.
	Errors []struct {
		ID    json.RawMessage `json:"id"`
		Error string          `json:"error"`
	} `json:"errors"`
	CloseReason string `json:"closeReason"` // with Oversize

	// RemoteAddr is what the spoke's endpoint knew about the hub after
	// connecting (iroh's remote info: found by lookup or given).
	RemoteAddr *struct {
		RelayURL string   `json:"relayUrl"`
		Addrs    []string `json:"addrs"`
	} `json:"remoteAddr"`
	// Paths are the connection's network paths after the exchange.
	Paths []SpokePath `json:"paths"`

	ExitCode int    `json:"-"`
	Stderr   string `json:"-"`
}

func (o SpokeOptions) args() []string {
	var a []string
	add := func(k, v string) {
		if v != "" {
			a = append(a, "--"+k, v)
		}
	}
	add("id", o.ID)
	for _, ap := range o.Addrs {
		add("addr", ap.String())
	}
	add("relay", o.RelayURL)
	add("ticket", o.Ticket)
	add("preset", o.Preset)
	add("count", strconv.Itoa(max(o.Count, 0)))
	add("size", strconv.Itoa(max(o.Size, 0)))
	add("expect-broadcasts", strconv.Itoa(max(o.ExpectBroadcasts, 0)))
	if o.Linger > 0 {
		add("linger-ms", strconv.FormatInt(o.Linger.Milliseconds(), 10))
	}
	if o.Timeout > 0 {
		add("timeout-ms", strconv.FormatInt(o.Timeout.Milliseconds(), 10))
	}
	add("secret-hex", o.SecretHex)
	add("alpn", o.ALPN)
	add("bind", o.Bind)
	add("name", o.Name)
	add("log-level", o.LogLevel)
	for _, raw := range o.SendRaw {
		add("send-raw", base64.StdEncoding.EncodeToString(raw))
	}
	if o.PrintSent {
		a = append(a, "--print-sent")
	}
	if o.Oversize {
		a = append(a, "--oversize")
	}
	return a
}

// RunSpoke runs one spoke to completion. The error wraps ErrSpokeFailed if
// the spoke reported failure (the result is still filled in), ErrNotInNetns
// outside the test namespace, ErrUnsafeNetns for an unsafe opts.Netns, or
// ctx's error if it was cancelled (the process is killed).
func RunSpoke(ctx context.Context, opts SpokeOptions) (SpokeResult, error) {
	if err := safeTarget(opts.Netns); err != nil {
		return SpokeResult{}, err
	}
	proc, err := startNode(opts.Netns, "spoke.mjs", opts.args(), opts.ExtraEnv, false)
	if err != nil {
		return SpokeResult{}, err
	}
	select {
	case <-proc.done:
	case <-ctx.Done():
		proc.kill()
		return SpokeResult{Stderr: proc.stderr.String()}, fmt.Errorf("interop: spoke: %w", ctx.Err())
	}
	res := SpokeResult{ExitCode: proc.cmd.ProcessState.ExitCode(), Stderr: proc.stderr.String()}
	var last []byte
	for {
		l, err := proc.stdout.next(context.Background())
		if err != nil {
			break
		}
		last = l
	}
	if last == nil {
		return res, fmt.Errorf("%w: spoke printed no result (exit %d)\n%s", ErrBadOutput, res.ExitCode, res.Stderr)
	}
	if err := json.Unmarshal(last, &res); err != nil {
		return res, fmt.Errorf("%w: spoke result %q: %v", ErrBadOutput, last, err)
	}
	if !res.OK || res.ExitCode != 0 {
		msg := "no error given"
		if res.Error != nil {
			msg = *res.Error
		}
		return res, fmt.Errorf("%w (exit %d): %s", ErrSpokeFailed, res.ExitCode, msg)
	}
	return res, nil
}

// ListenEvent is one line printed by a spoke in --listen mode.
type ListenEvent struct {
	Event string          `json:"event"` // "frame", "end" or "error"
	Len   int             `json:"len"`
	Body  []byte          `json:"b64"` // the frame body exactly as received
	Msg   json.RawMessage `json:"msg"` // parsed body, null if not JSON
	Error string          `json:"error"`
}

// SpokeListener is a spoke in --listen mode: it sent one "spoke.hello"
// envelope (echoed by the hub before StartSpokeListener returns) and reports
// every other frame it receives.
type SpokeListener struct {
	EndpointID string // the listener's own id
	ConnectMs  float64
	Stderr     *LogBuffer
	proc       *nodeProc
}

// StartSpokeListener starts a listening spoke and waits until the hub has
// registered it. Only the target, identity and process options are used. The process is killed when the test ends.
func StartSpokeListener(t testing.TB, opts SpokeOptions) *SpokeListener {
	t.Helper()
	requireSafeTarget(t, opts.Netns)
	listen := SpokeOptions{
		ID: opts.ID, Addrs: opts.Addrs, RelayURL: opts.RelayURL, Ticket: opts.Ticket, Preset: opts.Preset, Timeout: opts.Timeout,
		SecretHex: opts.SecretHex, ALPN: opts.ALPN, Bind: opts.Bind, Name: opts.Name, LogLevel: opts.LogLevel,
	}
	proc, err := startNode(opts.Netns, "spoke.mjs", append(listen.args(), "--listen"), opts.ExtraEnv, false)
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	l := &SpokeListener{Stderr: proc.stderr, proc: proc}
	t.Cleanup(func() {
		proc.kill()
		if t.Failed() {
			t.Logf("listener stderr:\n%s", l.Stderr.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), listenerReadyTimeout)
	defer cancel()
	line, err := proc.stdout.next(ctx)
	if err != nil {
		t.Fatalf("interop: waiting for listener: %v\n%s", err, l.Stderr.String())
	}
	var ready struct {
		Event      string  `json:"event"`
		EndpointID string  `json:"endpointId"`
		ConnectMs  float64 `json:"connectMs"`
		Error      string  `json:"error"`
	}
	if err := json.Unmarshal(line, &ready); err != nil || ready.Event != "ready" {
		t.Fatalf("interop: listener did not get ready: %s\n%s", line, l.Stderr.String())
	}
	l.EndpointID, l.ConnectMs = ready.EndpointID, ready.ConnectMs
	return l
}

// Next returns the next event (a frame, or the end/error of the stream).
func (l *SpokeListener) Next(ctx context.Context) (ListenEvent, error) {
	line, err := l.proc.stdout.next(ctx)
	if err != nil {
		return ListenEvent{}, err
	}
	var ev ListenEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return ListenEvent{}, fmt.Errorf("%w: listener line %q: %v", ErrBadOutput, line, err)
	}
	return ev, nil
}

// Frames collects n frame events, failing on anything else or on timeout.
func (l *SpokeListener) Frames(ctx context.Context, n int) ([]ListenEvent, error) {
	var out []ListenEvent
	for len(out) < n {
		ev, err := l.Next(ctx)
		if err != nil {
			return out, err
		}
		if ev.Event != "frame" {
			return out, fmt.Errorf("%w: listener event %q (%s) after %d frames", ErrSpokeFailed, ev.Event, ev.Error, len(out))
		}
		out = append(out, ev)
	}
	return out, nil
}

// Stop sends SIGTERM; the listener closes its connection and must exit 0.
func (l *SpokeListener) Stop() error {
	l.proc.signal(syscall.SIGTERM)
	code, err := l.proc.waitExit(hubStopTimeout)
	if err != nil {
		l.proc.kill()
		return err
	}
	if code != 0 {
		return fmt.Errorf("%w: listener exit status %d", ErrSpokeFailed, code)
	}
	return nil
}

// Wait waits for the listener to exit on its own and returns its status.
func (l *SpokeListener) Wait(d time.Duration) (int, error) { return l.proc.waitExit(d) }
