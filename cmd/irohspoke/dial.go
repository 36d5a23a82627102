package main

import (
	"bufio"
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
	addrlookup "github.com/alkdev/irohspoke/lookup"
	"github.com/alkdev/irohspoke/quic"
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
	name:    "dial",
	summary: "connect to an alkpubsub hub and exchange envelopes",
	args:    "--hub ID (--addr IP:PORT | --relay URL | --ticket T | --pkarr URL | --dns ADDR) [flags]",
	help: `
Connects to an alkpubsub hub (ALPN alkpubsub/1) by EndpointId and sends each
stdin line, a JSON envelope {"type","id","payload"}, as one frame. Every frame
received is printed on stdout as one compact JSON line. Status lines go to
stderr as JSON: {"event":"connected","path":"direct","rttMs":..}, and
"disconnected", "reconnected", "path_changed" (e.g. relay to direct after
hole punching), "malformed", "bad_input", "failed".

A malformed stdin line is reported on stderr and skipped. After stdin ends,
dial waits until every event is acknowledged by the hub, then keeps reading
until --linger passes with nothing received, closes the connection and exits.
A lost connection is dialled again with backoff unless --no-reconnect is
given. --hub may be omitted with --ticket. With --relay (or a ticket that
names a relay) the hub is also dialed through its relay: a direct dial starts
at once, the relay dial 250 ms later, and the first handshake wins. With
--pkarr URL (a pkarr relay, e.g. https://dns.iroh.link/pkarr) and/or --dns
IP[:PORT] (with --dns-origin, default dns.iroh.link.) and no --addr, --relay
or --ticket, the hub's relay and addresses are looked up by its EndpointId,
as iroh does. With --qad (needs the hub's relay) dial learns its public
address by QUIC Address Discovery at that relay (UDP --qad-port, default 7842;
--relay-ca FILE trusts a private CA), reports {"event":"public_addr"} and
offers the address for hole punching.

Exit status:
  0   every event was acknowledged; the connection was closed cleanly
  1   runtime failure (for example an unreadable key file)
  2   usage error (bad flag, bad id, address or ticket)
  3   could not connect: wrong EndpointId, no common ALPN, or no answer
      within --timeout
  4   some events were not delivered (connection lost with --no-reconnect,
      or interrupted)`,
	flags: func(fs *flag.FlagSet) runFunc {
		hubID := fs.String("hub", "", "hub EndpointId `ID` (hex or z-base-32)")
		var addrs stringList
		fs.Var(&addrs, "addr", "hub direct address `IP:PORT` (repeatable)")
		ticket := fs.String("ticket", "", "hub endpoint ticket `T`")
		relayURL := fs.String("relay", "", "hub's relay `URL` (overrides the ticket's)")
		keyFile := fs.String("key", "", "our secret key `FILE` (default: an ephemeral key)")
		secret := fs.String("secret-hex", "", "our secret key as `HEX`")
		alpn := fs.String("alpn", spoke.ALPN, "application protocol")
		linger := fs.Duration("linger", 2*time.Second, "after stdin ends, wait `DUR` with nothing received")
		timeout := fs.Duration("timeout", 10*time.Second, "give up connecting after `DUR`")
		noReconnect := fs.Bool("no-reconnect", false, "do not dial again after the connection is lost")
		pkarrURL := fs.String("pkarr", "", "look the hub up at the pkarr relay `URL`")
		dnsAddr := fs.String("dns", "", "look the hub up with the DNS server `ADDR` (IP[:PORT])")
		dnsOrigin := fs.String("dns-origin", "", "DNS lookup zone `NAME` (default "+defaultDNSOrigin+")")
		multipath := fs.Bool("multipath", true, "negotiate multipath and hole punching: a relayed connection moves to a direct path when one opens")
		rf := addRelayFlags(fs)
		return func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			resolver, err := lookupResolver(*pkarrURL, *dnsAddr, *dnsOrigin)
			if err != nil {
				return err
			}
			hub, err := dialTarget(*hubID, addrs, *relayURL, *ticket, resolver != nil)
			if err != nil {
				return err
			}
			if *alpn == "" {
				return usageErrorf("--alpn must not be empty")
			}
			if *timeout <= 0 || *linger < 0 {
				return usageErrorf("--timeout must be positive and --linger not negative")
			}
			var key identity.SecretKey
			if *keyFile != "" || *secret != "" {
				if key, err = loadKey(fs, *keyFile, *secret, stdin); err != nil {
					return err
				}
			} else if key, err = identity.GenerateSecretKey(rand.Reader); err != nil {
				return err
			}
			d := &dialer{stdin: stdin, stdout: stdout, stderr: stderr, linger: *linger, resolver: resolver, multipath: *multipath, relayFlags: rf}
			return d.run(ctx, key, hub, *alpn, *timeout, *noReconnect)
		}
	},
}

// dialTarget builds the hub address from --hub, --addr, --relay and --ticket;
// with a lookup service the id alone is enough.
func dialTarget(id string, addrs []string, relayURL, ticket string, canLookup bool) (identity.EndpointAddr, error) {
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
	if relayURL != "" {
		u, err := identity.NormalizeRelayURL(relayURL)
		if err != nil {
			return hub, usageErrorf("invalid --relay: %s", describe(err))
		}
		hub.Relays = []string{u}
	}
	if hub.IsEmpty() && !canLookup {
		return hub, usageErrorf("--addr IP:PORT, --relay URL, --ticket, --pkarr URL or --dns ADDR is required")
	}
	return hub, nil
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
	resolver       addrlookup.Resolver // nil: no address lookup
	multipath      bool
	relayFlags     *relayFlags // nil: no --qad/--relay-ca

	mu       sync.Mutex // serialises stdout and stderr lines
	received chan struct{}
	failed   int
}

func (d *dialer) run(ctx context.Context, key identity.SecretKey, hub identity.EndpointAddr, alpn string, timeout time.Duration, noReconnect bool) error {
	ep, err := bindAny(ctx, key, timeout, d.resolver, d.multipath, func(o *endpoint.Options) error {
		if d.relayFlags == nil {
			return nil
		}
		if *d.relayFlags.qad {
			// QAD asks the hub's relay; it becomes our home relay too.
			o.RelayURL = hub.RelayURL()
		}
		return d.relayFlags.apply(o)
	})
	if err != nil {
		return err
	}
	defer ep.Close()
	go reportPublicAddr(ctx, ep, func(addr string) {
		d.line(d.stderr, map[string]any{"event": "public_addr", "addr": addr})
	})
	d.received = make(chan struct{}, 1)
	opts := []spoke.Option{
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
		opts = append(opts, spoke.WithoutReconnect())
	}
	t, err := spoke.Dial(ctx, ep, hub, opts...)
	if err != nil {
		return &exitError{exitConnect, err}
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
	d.mu.Unlock()
	switch {
	case failed > 0:
		return &exitError{exitLost, fmt.Errorf("%d events were not delivered", failed)}
	case errors.Is(sendErr, spoke.ErrClosed):
		return &exitError{exitLost, errors.New("connection lost")}
	case sendErr != nil && ctx.Err() != nil:
		return nil // interrupted; everything sent was acknowledged
	}
	return sendErr
}

// bindAny binds an endpoint (direct and relay paths) on a dual-stack UDP
// socket, or an IPv4 one without IPv6.
func bindAny(ctx context.Context, key identity.SecretKey, timeout time.Duration, resolver addrlookup.Resolver, multipath bool, more func(*endpoint.Options) error) (*endpoint.Endpoint, error) {
	opts := endpoint.Options{
		SecretKey: key, BindAddr: "[::]:0", QUIC: &quic.Config{HandshakeTimeout: timeout},
		Lookup: resolver, DisableMultipath: !multipath,
	}
	if err := more(&opts); err != nil {
		return nil, err
	}
	ep, err := endpoint.Bind(ctx, opts)
	if err != nil {
		opts.BindAddr = "0.0.0.0:0"
		ep, err = endpoint.Bind(ctx, opts)
	}
	return ep, err
}

// send dispatches every stdin line.
func (d *dialer) send(ctx context.Context, t *spoke.Target) error {
	sc := bufio.NewScanner(d.stdin)
	sc.Buffer(make([]byte, 64<<10), maxInputLine)
	lines := make(chan []byte)
	scanErr := make(chan error, 1)
	go func() {
		for sc.Scan() {
			select {
			case lines <- append([]byte(nil), sc.Bytes()...):
			case <-ctx.Done():
				return
			}
		}
		scanErr <- sc.Err()
		close(lines)
	}()
	for n := 1; ; n++ {
		var line []byte
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			if err := <-scanErr; err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			return nil
		}
		if len(trimSpace(line)) == 0 {
			continue
		}
		e, err := wire.ParseEnvelope(line)
		if err != nil {
			d.line(d.stderr, map[string]any{"event": "bad_input", "line": n, "error": err.Error()})
			continue
		}
		if err := t.Dispatch(ctx, e); err != nil {
			if errors.Is(err, spoke.ErrClosed) || ctx.Err() != nil {
				return err
			}
			d.line(d.stderr, map[string]any{"event": "bad_input", "line": n, "error": err.Error()})
		}
	}
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
	timer := time.NewTimer(d.linger)
	defer timer.Stop()
	for {
		select {
		case <-d.received:
			timer.Reset(d.linger)
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
		d.stdout.Write(append(frame[4:], '\n'))
		d.mu.Unlock()
	}
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
	}
	d.line(d.stderr, m)
}

func (d *dialer) line(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	d.mu.Lock()
	w.Write(append(b, '\n'))
	d.mu.Unlock()
}
