package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/spoke"
	"github.com/alkdev/irohspoke/wire"
)

// Exit codes of dial, above the common ones.
const (
	exitConnect = 3 // the first connection failed (handshake, timeout)
	exitLost    = 4 // events were not delivered (connection lost, gave up)
)

// maxInputLine bounds one stdin line: a frame body plus JSON slack.
const maxInputLine = wire.DefaultMaxFrameSize + 1024

var dialCommand = &command{
	name:       "dial",
	summary:    "connect to an alkpubsub hub and exchange envelopes",
	args:       "--hub ID [--addr IP:PORT | --relay URL | --ticket T] [flags]",
	jsonErrors: true,
	help: `
Connects to an alkpubsub hub (ALPN alkpubsub/1) by EndpointId and sends each
stdin line, a JSON envelope {"type","id","payload"}, as one frame. Every frame
received is printed on stdout as one compact JSON line. Status lines go to
stderr as JSON: {"event":"connected","path":"direct","rttMs":..}, and
"disconnected", "reconnected", "path_changed" (e.g. relay to direct after
hole punching; sinceConnectedMs: how long after "connected" or
"reconnected"), "dial_failed", "public_addr", "malformed", "bad_input",
"failed". A runtime failure ends with one more line,
{"event":"error","kind":..,"error":..,"hint":..,"exit":..}; kind is one of
wrong_key, alpn, tls, timeout, not_found, lookup, relay_refused, relay_tls,
relay_proxy, relay_denied, relay_dns, relay, lost, runtime. Usage errors
(exit 2) are plain text.

With --hub alone dial works as iroh does by default (--preset n0): it finds
the hub's relay by DNS under dns.iroh.link, picks the nearest of n0's relays
as its own home relay, learns its public address there (QAD), and hole
punches a direct path when it can. Each part can be changed: --relay URL
(repeatable) replaces the relays and is also where the hub is dialled,
--addr dials the hub directly, --ticket gives both, --dns HOST[:PORT] and
--dns-origin NAME change the lookup, --pkarr URL adds a pkarr relay,
--lookup=false, --publish=false, --qad=false and --portmap=false turn
parts off, --qad turns QAD on (also at a plain-HTTP --relay's host, UDP
--qad-port), and --preset minimal starts from nothing (no relay, lookup or
publishing). A direct dial starts at once and a relay dial 250 ms later;
the first handshake wins.

A stdin line that is not an envelope, or is longer than a frame can be, is
reported as "bad_input" and skipped. After stdin ends, dial waits until
every event is acknowledged by the hub, then keeps reading until --linger
passes with nothing received, closes the connection and exits. A lost
connection is dialled again with backoff unless --no-reconnect is given.

Secrets: --key FILE (or --secret-hex -, the key on the first stdin line)
and --relay-token-file FILE keep them out of the process list; --keylog
FILE writes TLS secrets for Wireshark (SSLKEYLOGFILE alone does not).

Exit status:
  0   every event was acknowledged; the connection was closed cleanly
  1   runtime failure (for example an unreadable key file)
  2   usage error (bad flag, bad id, address or ticket)
  3   could not connect: wrong EndpointId, no common ALPN, relay or hub
      unreachable, hub not found, or no answer within --timeout
  4   some events were not delivered (connection lost with --no-reconnect,
      or interrupted)`,
	flags: func(fs *flag.FlagSet) runFunc {
		hubID := fs.String("hub", "", "hub EndpointId `ID` (hex or z-base-32)")
		var addrs stringList
		fs.Var(&addrs, "addr", "hub direct address `IP:PORT` (repeatable)")
		ticket := fs.String("ticket", "", "hub endpoint ticket `T`")
		keyFile := fs.String("key", "", "our secret key `FILE` (default: an ephemeral key)")
		secret := fs.String("secret-hex", "", "our secret key as `HEX`, or - for the first stdin line (a key on the command line is visible in the process list)")
		alpn := fs.String("alpn", spoke.ALPN, "application protocol")
		linger := fs.Duration("linger", 2*time.Second, "after stdin ends, wait `DUR` with nothing received")
		waitEcho := fs.Bool("wait-echo", false, "after stdin ends, exit as soon as every event sent came back (an echoing hub; at once when none was sent), or after --linger with nothing received")
		timeout := fs.Duration("timeout", 10*time.Second, "give up connecting after `DUR`")
		noReconnect := fs.Bool("no-reconnect", false, "do not dial again after the connection is lost")
		nf := addNetFlags(fs)
		return func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *alpn == "" {
				return usageErrorf("--alpn must not be empty")
			}
			if *timeout <= 0 || *linger < 0 {
				return usageErrorf("--timeout must be positive and --linger not negative")
			}
			ns, err := nf.resolve()
			if err != nil {
				return err
			}
			defer ns.close()
			hub, err := dialTarget(*hubID, addrs, nf.relays, *ticket, ns.lookup != "")
			if err != nil {
				return err
			}
			var key identity.SecretKey
			if *keyFile != "" || *secret != "" {
				if key, err = loadKey(fs, *keyFile, *secret, stdin); err != nil {
					return err
				}
			} else if key, err = identity.GenerateSecretKey(rand.Reader); err != nil {
				return err
			}
			d := &dialer{stdin: stdin, stdout: stdout, stderr: stderr, linger: *linger, echoes: newEchoWait(*waitEcho),
				explain: &explainer{hub: hub.ID, alpn: *alpn, lookup: ns.lookup, timeout: *timeout}}
			ns.opts.SecretKey = key
			ns.opts.QUIC.HandshakeTimeout = *timeout
			ns.opts.Logger = ns.log.or(logOff).logger(stderr)
			return d.run(ctx, ns.opts, hub, *alpn, *timeout, *noReconnect)
		}
	},
}

// dialTarget builds the hub address from --hub, --addr, --relay and
// --ticket; with address lookup the id alone is enough.
func dialTarget(id string, addrs, relays []string, ticket string, canLookup bool) (identity.EndpointAddr, error) {
	var hub identity.EndpointAddr
	if ticket != "" {
		t, err := identity.ParseTicket(ticket)
		if err != nil {
			return hub, usageErrorf("invalid --ticket: %s", describe(err))
		}
		hub = t
	}
	if id != "" {
		eid, err := identity.ParseEndpointID(id)
		if err != nil {
			return hub, usageErrorf("invalid --hub: %s", describe(err))
		}
		if ticket != "" && eid != hub.ID {
			return hub, usageErrorf("--hub %s does not match the ticket's EndpointId %s", eid.Short(), hub.ID.Short())
		}
		hub.ID = eid
	} else if ticket == "" {
		return hub, usageErrorf("--hub is required (or give --ticket)")
	}
	for _, a := range addrs {
		ap, err := parseAddr(a)
		if err != nil {
			return hub, err
		}
		hub.Addrs = append(hub.Addrs, ap)
	}
	if len(relays) > 0 {
		hub.Relays = nil
		for _, r := range relays {
			u, err := normalizeRelay(r)
			if err != nil {
				return hub, err
			}
			hub.Relays = append(hub.Relays, u)
		}
	}
	if hub.IsEmpty() && !canLookup {
		return hub, usageErrorf("with lookup off, give --addr IP:PORT, --relay URL or --ticket")
	}
	return hub, nil
}

// normalizeRelay checks one --relay URL.
func normalizeRelay(s string) (string, error) {
	u, err := identity.NormalizeRelayURL(s)
	if err != nil {
		return "", usageErrorf("invalid --relay: %s", describe(err))
	}
	return u, nil
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

type dialer struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	linger         time.Duration
	echoes         *echoWait // nil without --wait-echo
	explain        *explainer

	mu       sync.Mutex // serialises stdout and stderr lines
	ended    bool       // run returned: late frames and events are not printed
	received chan struct{}
	failed   int
	upAt     time.Time // when the connection came up, for sinceConnectedMs
}

func (d *dialer) run(ctx context.Context, opts endpoint.Options, hub identity.EndpointAddr, alpn string, timeout time.Duration, noReconnect bool) error {
	ep, err := endpoint.Bind(ctx, opts)
	if err != nil {
		return err
	}
	defer ep.Close()
	go reportPublicAddr(ctx, ep, func(addr string) {
		d.line(d.stderr, map[string]any{"event": "public_addr", "addr": addr})
	})
	d.received = make(chan struct{}, 1)
	sopts := []spoke.Option{
		spoke.WithALPN(alpn),
		spoke.WithAttemptTimeout(timeout),
		spoke.WithStatus(d.status),
		spoke.WithOnFailed(func(wire.Envelope, error) {
			d.mu.Lock()
			d.failed++
			d.mu.Unlock()
		}),
	}
	if noReconnect {
		sopts = append(sopts, spoke.WithoutReconnect())
	}
	t, err := spoke.Dial(ctx, ep, hub, sopts...)
	if err != nil {
		return &exitError{exitConnect, d.explain.explain(err)}
	}
	t.AddListener(spoke.Wildcard, d.print)
	sendErr := d.send(ctx, t)
	if sendErr == nil {
		sendErr = t.Flush(ctx)
	}
	if sendErr == nil {
		d.waitQuiet(ctx)
	}
	t.Close()
	d.mu.Lock()
	failed := d.failed
	// A frame read just before the close may still reach a listener, and
	// reportPublicAddr may still report; the caller owns the streams now.
	d.ended = true
	d.mu.Unlock()
	switch {
	case failed > 0:
		return &exitError{exitLost, &explained{kind: kindLost, msg: fmt.Sprintf("%d events were not delivered", failed)}}
	case errors.Is(sendErr, spoke.ErrClosed):
		return &exitError{exitLost, &explained{kind: kindLost, msg: "connection lost", err: sendErr}}
	case sendErr != nil && ctx.Err() != nil:
		return nil // interrupted; everything sent was acknowledged
	}
	return sendErr
}

// inputLine is one stdin line, or the length of one over the limit.
type inputLine struct {
	text    []byte
	tooLong int
}

// send dispatches every stdin line. A line that is not an envelope, or is
// longer than a frame can be, is reported and skipped.
func (d *dialer) send(ctx context.Context, t *spoke.Target) error {
	lr := newLineReader(d.stdin, maxInputLine)
	lines := make(chan inputLine)
	readErr := make(chan error, 1)
	go func() {
		defer close(lines)
		for {
			text, tooLong, err := lr.next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
			select {
			case lines <- inputLine{text, tooLong}:
			case <-ctx.Done():
				readErr <- nil
				return
			}
		}
	}()
	for n := 1; ; n++ {
		var in inputLine
		var ok bool
		select {
		case in, ok = <-lines:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			if err := <-readErr; err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			return nil
		}
		if in.tooLong > 0 {
			d.badInput(n, fmt.Errorf("line too long: %d bytes (at most %d)", in.tooLong, maxInputLine))
			continue
		}
		if len(trimSpace(in.text)) == 0 {
			continue
		}
		e, err := wire.ParseEnvelope(in.text)
		if err != nil {
			d.badInput(n, err)
			continue
		}
		d.echoes.expect(e.ID) // before Dispatch: on loopback the echo can beat its return
		if err := t.Dispatch(ctx, e); err != nil {
			d.echoes.forget(e.ID)
			if errors.Is(err, spoke.ErrClosed) || ctx.Err() != nil {
				return err
			}
			d.badInput(n, err)
		}
	}
}

func (d *dialer) badInput(line int, err error) {
	d.line(d.stderr, map[string]any{"event": "bad_input", "line": line, "error": err.Error()})
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// waitQuiet returns once linger passed with nothing received.
func (d *dialer) waitQuiet(ctx context.Context) {
	if d.echoes.nothingSent() {
		return
	}
	timer := time.NewTimer(d.linger)
	defer timer.Stop()
	for {
		select {
		case <-d.received:
			timer.Reset(d.linger)
		case <-d.echoes.done():
			return
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// print writes a received frame as one compact JSON line.
func (d *dialer) print(e wire.Envelope) {
	frame, err := wire.AppendFrame(nil, e)
	if err == nil {
		d.mu.Lock()
		if !d.ended {
			d.stdout.Write(append(frame[4:], '\n'))
		}
		d.mu.Unlock()
	}
	d.echoes.got(e.ID)
	select {
	case d.received <- struct{}{}:
	default:
	}
}

func (d *dialer) status(ev spoke.StatusEvent) {
	m := map[string]any{"event": string(ev.Kind)}
	if ev.Path != "" {
		m["path"] = ev.Path
		m["rttMs"] = float64(ev.RTT.Microseconds()) / 1000
	}
	d.mu.Lock()
	switch ev.Kind {
	case spoke.EventConnected, spoke.EventReconnected:
		d.upAt = ev.Time
	case spoke.EventPathChanged:
		if !d.upAt.IsZero() {
			m["sinceConnectedMs"] = float64(ev.Time.Sub(d.upAt).Microseconds()) / 1000
		}
	}
	d.mu.Unlock()
	switch ev.Kind {
	case spoke.EventConnecting, spoke.EventDialFailed:
		m["attempt"] = ev.Attempt
	case spoke.EventReconnected:
		m["reconnects"], m["resent"] = ev.Reconnects, ev.Resent
	case spoke.EventFailed:
		m["failed"] = ev.Failed
	}
	var ce *spoke.CloseError
	if errors.As(ev.Err, &ce) {
		m["closeCode"], m["closeReason"], m["remote"] = ce.Code, ce.Reason, ce.Remote
	}
	if ev.Err != nil {
		m["error"] = ev.Err.Error()
		if ev.Kind == spoke.EventDialFailed {
			ex := d.explain.explain(ev.Err)
			m["error"], m["kind"] = ex.msg, ex.kind
		}
	}
	d.line(d.stderr, m)
}

func (d *dialer) line(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	d.mu.Lock()
	if !d.ended {
		w.Write(append(b, '\n'))
	}
	d.mu.Unlock()
}
