package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/endpoint"
	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
)

var hubCommand = &command{
	name:       "hub",
	summary:    "run an alkpubsub hub (echo and fan-out)",
	args:       "[--listen ADDR] [--key FILE] [--max-spokes N] [flags]",
	jsonErrors: true,
	help: `
Runs an alkpubsub hub (ALPN alkpubsub/1). Each spoke, Go or iroh, opens one
bidirectional stream; every envelope is echoed back as type+".echo" and its
frame is forwarded unchanged to every other connected spoke. A malformed
frame is answered with an "error" envelope; a spoke whose frames cannot be
followed is disconnected, and so is a spoke that does not read its fan-out
fast enough.

With no flags the hub works as an iroh endpoint does by default (--preset
n0): it binds a UDP port on every interface, picks the nearest of n0's
relays as its home relay, learns its public address there (QAD), and
publishes the relay to n0's pkarr relay, so that "irohspoke dial --hub ID"
finds it anywhere. --relay URL (repeatable) replaces the relays, --pkarr URL
the pkarr relay, --publish=false, --qad=false and --portmap=false turn
parts off, --qad turns QAD on (also at a plain-HTTP --relay's host, UDP
--qad-port), --publish-addrs also publishes the direct addresses, and
--preset minimal starts from nothing (reachable only at its printed
addresses).

Once serving it prints one JSON line on stdout:

  {"endpointId": "<hex>", "addrs": ["IP:PORT", ...], "relayUrl": null | "<url>",
   "ticket": "endpoint..."}

Each spoke may open 2 bidirectional streams and no unidirectional one, and
have at most 4 MiB in flight or unread; --max-spokes bounds the spokes
(handshaking or connected) held at once, so what spokes can make the hub
buffer has a total (default 1024 x 4 MiB). The handshake of a spoke over
the limit gets no answer, so its dial times out.

With relays it first waits up to 10 s to be online at its home relay. Logs
go to stderr as JSON lines; a runtime failure ends with
{"event":"error","kind":..,"error":..,"exit":1}. SIGTERM or SIGINT closes
every connection with code 0 and the reason "hub shutting down", then exits
0. Without --key (or --secret-hex) the hub uses an ephemeral key, so its
EndpointId changes at every start.`,
	flags: func(fs *flag.FlagSet) runFunc {
		listen := fs.String("listen", "", "listen on UDP `ADDR` (IP:PORT; default every interface, a random port)")
		keyFile := fs.String("key", "", "secret key `FILE`")
		secret := fs.String("secret-hex", "", "secret key as `HEX` (\"-\": read from stdin; on the command line it is visible in the process list)")
		maxSpokes := fs.Int("max-spokes", hub.DefaultMaxSpokes, "hold at most `N` spoke connections (handshaking or connected) at once")
		nf := addNetFlags(fs)
		return func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *listen != "" {
				if _, err := netip.ParseAddrPort(*listen); err != nil {
					return usageErrorf("--listen %q: want IP:PORT", *listen)
				}
			}
			if *maxSpokes < 1 {
				return usageErrorf("--max-spokes must be at least 1")
			}
			ns, err := nf.resolve()
			if err != nil {
				return err
			}
			defer ns.close()
			ns.opts.QUIC.MaxIncomingConnections = *maxSpokes
			var key identity.SecretKey
			if *keyFile != "" || *secret != "" {
				if key, err = loadKey(fs, *keyFile, *secret, stdin); err != nil {
					return err
				}
			} else if key, err = identity.GenerateSecretKey(rand.Reader); err != nil {
				return err
			}
			ns.opts.SecretKey, ns.opts.BindAddr = key, *listen
			ns.opts.Logger = ns.log.or(logInfo).logger(stderr)
			return runHub(ctx, ns.opts, stdout, stderr)
		}
	},
}

// hubRelayWait bounds how long the hub waits to be online at its relay
// before announcing itself anyway, like iroh's online timeout.
const hubRelayWait = 10 * time.Second

// runHub serves the hub on an endpoint made from opts; opts.Logger, if
// set, gets its diagnostics (else JSON lines on stderr).
func runHub(ctx context.Context, opts endpoint.Options, stdout, stderr io.Writer) error {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	opts.ALPNs, opts.Logger = []string{hub.ALPN}, logger
	// The hub's stream, window and connection bounds; fields already set
	// (--max-spokes, --keylog) are kept.
	opts.QUIC = hub.QUICConfig(opts.QUIC)
	if p := opts.Preset; p.Publish && p.PkarrURL != "" {
		opts.Publisher = hubPublisher(p.PkarrURL, opts.SecretKey, logger)
	}
	ep, err := endpoint.Bind(ctx, opts)
	if err != nil {
		return err
	}
	defer ep.Close()
	if len(opts.Preset.Relays) > 0 {
		wctx, cancel := context.WithTimeout(ctx, hubRelayWait)
		if err := ep.WaitRelay(wctx); err != nil {
			logger.Warn("hub: not online at a relay yet; announcing anyway", "err", err)
		}
		cancel()
	}
	key := opts.SecretKey
	ready := struct {
		EndpointID string   `json:"endpointId"`
		Addrs      []string `json:"addrs"`
		RelayURL   *string  `json:"relayUrl"`
		Ticket     string   `json:"ticket"`
	}{EndpointID: key.Public().String(), Addrs: []string{}, Ticket: ep.Addr().String()}
	for _, a := range ep.Addrs() {
		ready.Addrs = append(ready.Addrs, a.String())
	}
	if home := ep.HomeRelay(); home != "" {
		ready.RelayURL = &home
	}
	line, err := json.Marshal(ready)
	if err != nil {
		return err
	}
	h := hub.New(hub.Options{Logger: logger})
	served := make(chan error, 1)
	go func() { served <- h.Serve(ctx, ep) }()
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	h.Close()
	return serveErr
}
