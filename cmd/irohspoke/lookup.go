package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/alkdev/irohspoke/identity"
	addrlookup "github.com/alkdev/irohspoke/lookup"
)

// defaultDNSOrigin is n0's lookup zone, used when --dns is given alone.
const defaultDNSOrigin = "dns.iroh.link."

var lookupServerCommand = &command{
	name:       "lookup-server",
	summary:    "run a pkarr relay and DNS server for iroh address lookup",
	args:       "--http ADDR [--dns ADDR --origin NAME]",
	jsonErrors: true,
	help: `
Runs a self-hostable subset of iroh-dns-server: the pkarr relay HTTP API
(PUT and GET /pkarr/<z-base-32 id>, GET /healthz) on the TCP address given by
--http, and, with --dns, an authoritative DNS server on that address (UDP and
TCP, as iroh's resolver retries truncated answers over TCP) that
answers TXT queries for _iroh.<z-base-32 id>.<origin> from the stored packets.
Packets are kept in memory (newest timestamp wins, at most --max entries).
It serves with the lookup package's limits: an HTTP request must arrive
within 10 s (its head within 5 s, at most 16 KiB), keep-alive connections
idle out after 30 s, and a client (IPv4 address or IPv6 /64) may hold 16
HTTP connections (1024 in all) and 8 DNS-over-TCP ones (256 in all); UDP
answers are rate limited per /24 (IPv6 /56) to 20 a second after a burst.

Hubs publish with "irohspoke hub --pkarr http://ADDR/pkarr"; spokes look
hubs up with "irohspoke dial --hub ID --pkarr http://ADDR/pkarr" or
"--dns ADDR --dns-origin NAME".

Once serving it prints one JSON line on stdout:

  {"pkarr": "http://ADDR/pkarr", "dns": "IP:PORT" | null, "origin": "NAME"}`,
	flags: func(fs *flag.FlagSet) runFunc {
		httpAddr := fs.String("http", "", "serve the pkarr relay API on TCP `ADDR` (IP:PORT)")
		dnsAddr := fs.String("dns", "", "serve DNS on `ADDR` (IP:PORT, UDP and TCP)")
		origin := fs.String("origin", "", "DNS zone `NAME` answered, e.g. dns.example.org")
		maxPackets := fs.Int("max", addrlookup.DefaultMaxPackets, "keep at most `N` packets")
		noLimit := fs.Bool("no-rate-limit", false, "do not rate-limit PUTs (iroh: burst 2, then 1 per 4 s per IP)")
		return func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *httpAddr == "" {
				return usageErrorf("--http is required")
			}
			if (*dnsAddr == "") != (*origin == "") {
				return usageErrorf("--dns and --origin go together")
			}
			if *maxPackets < 1 {
				return usageErrorf("--max must be at least 1")
			}
			opts := addrlookup.ServerOptions{Origin: *origin, MaxPackets: *maxPackets, Logger: slog.New(slog.NewJSONHandler(stderr, nil))}
			if *noLimit {
				opts.PutBurst = -1
			}
			if err := opts.Validate(); err != nil {
				return usageErrorf("invalid --origin: %s", describe(err))
			}
			return runLookupServer(ctx, addrlookup.NewServer(opts), *httpAddr, *dnsAddr, *origin, stdout)
		}
	},
}

func runLookupServer(ctx context.Context, s *addrlookup.Server, httpAddr, dnsAddr, origin string, stdout io.Writer) error {
	l, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	defer l.Close() // ServePkarr then closes every connection
	errs := make(chan error, 2)
	// The lookup package's serving: HTTP timeouts, 16 KiB request heads and
	// connection caps per client and in total.
	go func() { errs <- s.ServePkarr(l) }()
	ready := struct {
		Pkarr  string  `json:"pkarr"`
		DNS    *string `json:"dns"`
		Origin string  `json:"origin"`
	}{Pkarr: "http://" + l.Addr().String() + "/pkarr", Origin: origin}
	if dnsAddr != "" {
		pc, err := net.ListenPacket("udp", dnsAddr)
		if err != nil {
			return err
		}
		defer pc.Close()
		// The same port over TCP: iroh's resolver sends no EDNS and asks
		// again over TCP whenever a UDP answer (512 bytes) is truncated.
		tl, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			return fmt.Errorf("DNS over TCP: %w", err)
		}
		defer tl.Close()
		go func() { errs <- s.ServeDNS(pc) }()
		go func() {
			if err := s.ServeDNSTCP(tl); err != nil {
				errs <- err
			}
		}()
		a := pc.LocalAddr().String()
		ready.DNS = &a
	}
	line, err := json.Marshal(ready)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errs:
		return err
	}
}

// hubPublisher publishes the hub at the pkarr relay url, logging failures.
func hubPublisher(url string, key identity.SecretKey, logger *slog.Logger) *addrlookup.PkarrPublisher {
	return &addrlookup.PkarrPublisher{BaseURL: url, Key: key, OnPublish: func(_ addrlookup.EndpointInfo, err error) {
		if err != nil {
			logger.Warn("hub: pkarr publish failed", "url", url, "err", err)
		} else {
			logger.Info("hub: published to pkarr relay", "url", url)
		}
	}}
}
