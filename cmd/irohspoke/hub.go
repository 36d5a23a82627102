package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/quic"
)

// errNoRelay: the relay-capable endpoint has not landed yet.
var errNoRelay = errors.New("relay support not available yet")

var hubCommand = &command{
	name:    "hub",
	summary: "run an alkpubsub hub (echo and fan-out)",
	args:    "--listen ADDR [--key FILE | --secret-hex HEX] [--relay URL]",
	help: `
Runs an alkpubsub hub (ALPN alkpubsub/1) on the UDP address ADDR
(IP:PORT; port 0 picks one). Each spoke, Go or iroh, opens one bidirectional
stream; every envelope is echoed back as type+".echo" and its frame is
forwarded unchanged to every other connected spoke. A malformed frame is
answered with an "error" envelope; a spoke whose frames cannot be followed is
disconnected, and so is a spoke that does not read its fan-out fast enough.

Once serving it prints one JSON line on stdout:

  {"endpointId": "<hex>", "addrs": ["IP:PORT", ...], "relayUrl": null,
   "ticket": "endpoint..."}

Logs go to stderr. SIGTERM or SIGINT closes every connection with code 0 and
the reason "hub shutting down", then exits 0. Without --key or --secret-hex
the hub uses an ephemeral key. --relay is not supported yet.`,
	flags: func(fs *flag.FlagSet) runFunc {
		listen := fs.String("listen", "", "listen on UDP `ADDR` (IP:PORT)")
		keyFile := fs.String("key", "", "secret key `FILE`")
		secret := fs.String("secret-hex", "", "secret key as `HEX` (\"-\": read from stdin)")
		relayURL := fs.String("relay", "", "home relay `URL` (not supported yet)")
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
				return errNoRelay
			}
			var key identity.SecretKey
			if *keyFile != "" || *secret != "" {
				if key, err = loadKey(fs, *keyFile, *secret, stdin); err != nil {
					return err
				}
			} else if key, err = identity.GenerateSecretKey(rand.Reader); err != nil {
				return err
			}
			return runHub(ctx, key, bind, stdout, stderr)
		}
	},
}

func runHub(ctx context.Context, key identity.SecretKey, bind netip.AddrPort, stdout, stderr io.Writer) error {
	tr, err := quic.ListenUDP(bind.String())
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	ep, err := quic.NewEndpoint(tr, &quic.Config{SecretKey: key, ALPNs: []string{hub.ALPN}, Logger: logger})
	if err != nil {
		tr.Close()
		return err
	}
	defer ep.Close()
	local, err := netip.ParseAddrPort(ep.LocalAddr().String())
	if err != nil {
		return err
	}
	addrs := advertised(local)
	ready := struct {
		EndpointID string   `json:"endpointId"`
		Addrs      []string `json:"addrs"`
		RelayURL   *string  `json:"relayUrl"`
		Ticket     string   `json:"ticket"`
	}{EndpointID: key.Public().String(), Addrs: []string{}}
	for _, a := range addrs {
		ready.Addrs = append(ready.Addrs, a.String())
	}
	ready.Ticket = identity.Ticket{ID: key.Public(), Addrs: addrs}.String()
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

// advertised lists the addresses spokes can dial: the bound one, or every
// interface address for a wildcard bind.
func advertised(local netip.AddrPort) []netip.AddrPort {
	ip := local.Addr().Unmap()
	if !ip.IsUnspecified() {
		return []netip.AddrPort{netip.AddrPortFrom(ip, local.Port())}
	}
	var out []netip.AddrPort
	ifaddrs, _ := net.InterfaceAddrs()
	for _, a := range ifaddrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ai := pfx.Addr()
		if ai.IsLinkLocalUnicast() || (ip.Is4() && !ai.Is4()) {
			continue
		}
		out = append(out, netip.AddrPortFrom(ai, local.Port()))
	}
	return out
}
