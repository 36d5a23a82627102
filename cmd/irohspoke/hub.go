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
	name:    "hub",
	summary: "run an alkpubsub hub (echo and fan-out)",
	args:    "--listen ADDR [--key FILE | --secret-hex HEX] [--relay URL [--qad] [--relay-ca FILE]] [--publish-pkarr URL]",
	help: `
Runs an alkpubsub hub (ALPN alkpubsub/1) on the UDP address ADDR
(IP:PORT; port 0 picks one). Each spoke, Go or iroh, opens one bidirectional
stream; every envelope is echoed back as type+".echo" and its frame is
forwarded unchanged to every other connected spoke. A malformed frame is
answered with an "error" envelope; a spoke whose frames cannot be followed is
disconnected, and so is a spoke that does not read its fan-out fast enough.

Once serving it prints one JSON line on stdout:

  {"endpointId": "<hex>", "addrs": ["IP:PORT", ...], "relayUrl": null | "<url>",
   "ticket": "endpoint..."}

Logs go to stderr. SIGTERM or SIGINT closes every connection with code 0 and
the reason "hub shutting down", then exits 0. Without --key or --secret-hex
the hub uses an ephemeral key. With --relay URL the hub stays online at that
iroh relay (it waits up to 10 s for it before printing the ready line), so
spokes that know only its EndpointId and the relay can reach it; relayUrl and
the ticket then name the relay. With --publish-pkarr URL the hub publishes its
relay URL and direct addresses to that pkarr relay (e.g. an "irohspoke
lookup-server"), at start, on change and every 5 minutes, so spokes can dial
it by EndpointId alone. With --qad the hub learns its public address by QUIC
Address Discovery at the relay's host (UDP --qad-port, default 7842; the
relay's certificate must be valid for its URL's host, --relay-ca adds a
private root) and offers it to spokes for hole punching, so that a hub behind
an endpoint-independent NAT can be reached directly.`,
	flags: func(fs *flag.FlagSet) runFunc {
		listen := fs.String("listen", "", "listen on UDP `ADDR` (IP:PORT)")
		keyFile := fs.String("key", "", "secret key `FILE`")
		secret := fs.String("secret-hex", "", "secret key as `HEX` (\"-\": read from stdin)")
		relayURL := fs.String("relay", "", "home relay `URL`: spokes may reach the hub through it")
		publishPkarr := fs.String("publish-pkarr", "", "publish relay and addresses to the pkarr relay `URL`")
		multipath := fs.Bool("multipath", true, "negotiate multipath and hole punching: spokes that came through the relay may move to a direct path")
		rf := addRelayFlags(fs)
		return func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *listen == "" {
				return usageErrorf("--listen is required")
			}
			bind, err := netip.ParseAddrPort(*listen)
			if err != nil {
				return usageErrorf("--listen %q: want IP:PORT", *listen)
			}
			if *relayURL != "" {
				if _, err := identity.NormalizeRelayURL(*relayURL); err != nil {
					return usageErrorf("invalid --relay: %s", describe(err))
				}
			}
			var key identity.SecretKey
			if *keyFile != "" || *secret != "" {
				if key, err = loadKey(fs, *keyFile, *secret, stdin); err != nil {
					return err
				}
			} else if key, err = identity.GenerateSecretKey(rand.Reader); err != nil {
				return err
			}
			opts := endpoint.Options{RelayURL: *relayURL}
			if err := rf.apply(&opts); err != nil {
				return err
			}
			return runHub(ctx, key, bind, opts, *publishPkarr, *multipath, stdout, stderr)
		}
	},
}

// hubRelayWait bounds how long the hub waits to be online at its relay
// before announcing itself anyway, like iroh's online timeout.
const hubRelayWait = 10 * time.Second

// runHub serves the hub; opts carries the relay settings (RelayURL, QAD,
// RelayTLS), the rest is filled in here.
func runHub(ctx context.Context, key identity.SecretKey, bind netip.AddrPort, opts endpoint.Options, publishPkarr string, multipath bool, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	relayURL := opts.RelayURL
	opts.SecretKey, opts.BindAddr = key, bind.String()
	opts.ALPNs, opts.Logger, opts.DisableMultipath = []string{hub.ALPN}, logger, !multipath
	if publishPkarr != "" {
		opts.Publisher = hubPublisher(publishPkarr, key, logger)
		opts.PublishAddrs = true
	}
	ep, err := endpoint.Bind(ctx, opts)
	if err != nil {
		return err
	}
	defer ep.Close()
	if relayURL != "" {
		wctx, cancel := context.WithTimeout(ctx, hubRelayWait)
		if err := ep.WaitRelay(wctx); err != nil {
			logger.Warn("hub: not online at the relay yet; announcing anyway", "relay", relayURL, "err", err)
		}
		cancel()
	}
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
