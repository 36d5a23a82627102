package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/alkdev/irohspoke/relay"
)

// relayShutdownTimeout bounds the graceful shutdown after SIGTERM.
const relayShutdownTimeout = 5 * time.Second

var relayCommand = &command{
	name:    "relay",
	summary: "run an iroh-compatible relay server",
	args:    "--listen ADDR [--tls-cert F --tls-key F [--qad ADDR]] [--token-file F] [--rate BYTES/s [--burst BYTES]] [limits]",
	help: `
Runs an iroh 1.0 compatible relay on ADDR (HOST:PORT; port 0 picks one):
WebSocket relaying on /relay, the latency probe /ping and the captive-portal
check /generate_204. Without --tls-cert/--tls-key it speaks plain HTTP (use
http:// relay URLs); with them, HTTPS.

Once serving it prints one JSON line on stdout: {"relayUrl": "..."}. Logs go
to stderr. SIGTERM or SIGINT shuts it down gracefully (exit 0).

--token-file FILE (one token per line; # comments) admits only clients
presenting one of its tokens (Authorization: Bearer, or ?token=). --token T
may be repeated too, but a token on the command line is visible to every
local user in the process list; prefer the file. --rate limits the
bytes read from each client per second; --burst is the bucket size
(default rate/10).

--qad (needs --tls-cert/--tls-key) also serves QUIC Address Discovery on UDP
ADDR (HOST:PORT, or HOST for port 7842) with the same certificate, and the
ready line gains "qadAddr".

Limits: a plain HTTP request (/ping, the upgrade) must arrive within
--request-timeout, an idle keep-alive connection is closed after
--idle-timeout, and an upgraded socket must log in within --login-timeout.
Connections over --max-conns or --max-conns-per-ip are closed as they are
accepted (counted as conns_refused).`,
	flags: func(fs *flag.FlagSet) runFunc {
		listen := fs.String("listen", "", "listen on `ADDR` (HOST:PORT)")
		certFile := fs.String("tls-cert", "", "TLS certificate chain `FILE` (PEM)")
		keyFile := fs.String("tls-key", "", "TLS private key `FILE` (PEM)")
		var tokens stringList
		fs.Var(&tokens, "token", "accept bearer token `T` (repeatable; visible in the process list, prefer --token-file)")
		tokenFile := fs.String("token-file", "", "accept the bearer tokens in `FILE`, one per line")
		rate := fs.Int64("rate", 0, "per-client receive limit in `BYTES`/s (0: off)")
		burst := fs.Int64("burst", 0, "rate-limit burst in `BYTES` (default rate/10)")
		qad := fs.String("qad", "", "serve QUIC Address Discovery on UDP `ADDR` (needs TLS)")
		limits := addRelayLimitFlags(fs)
		return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
			if err := noArgs(args); err != nil {
				return err
			}
			for _, tok := range tokens {
				if tok == "" {
					return usageErrorf("--token must not be empty")
				}
			}
			if *listen == "" {
				return usageErrorf("--listen is required")
			}
			if _, _, err := net.SplitHostPort(*listen); err != nil {
				return usageErrorf("--listen %q: want HOST:PORT", *listen)
			}
			if (*certFile == "") != (*keyFile == "") {
				return usageErrorf("--tls-cert and --tls-key must be given together")
			}
			if *rate < 0 || *burst < 0 {
				return usageErrorf("--rate and --burst must not be negative")
			}
			if *burst > 0 && *rate == 0 {
				return usageErrorf("--burst needs --rate")
			}
			if *qad != "" && *certFile == "" {
				return usageErrorf("--qad needs --tls-cert and --tls-key")
			}
			cfg := relay.ServerConfig{
				Logger:    slog.New(slog.NewTextHandler(stderr, nil)),
				RateLimit: *rate,
				RateBurst: *burst,
				QADAddr:   *qad,
			}
			if err := limits.apply(&cfg); err != nil {
				return err
			}
			if *tokenFile != "" {
				more, err := readTokenFile(*tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				tokens = append(tokens, more...)
			}
			cfg.Tokens = tokens
			scheme := "http"
			if *certFile != "" {
				cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
				if err != nil {
					return fmt.Errorf("loading TLS key pair: %w", err)
				}
				cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
				scheme = "https"
			}
			l, err := net.Listen("tcp", *listen)
			if err != nil {
				return err
			}
			srv := relay.NewServer(cfg)
			_ = srv.PublishExpvar("relayserver")
			info := map[string]string{"relayUrl": scheme + "://" + l.Addr().String() + "/"}
			if *qad != "" {
				qa, err := srv.ListenQAD()
				if err != nil {
					l.Close()
					srv.Close()
					return fmt.Errorf("QAD: %w", err)
				}
				info["qadAddr"] = qa.String()
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			ready, _ := json.Marshal(info)
			if _, err := fmt.Fprintf(stdout, "%s\n", ready); err != nil {
				srv.Close()
				return err
			}
			select {
			case err := <-served:
				srv.Close()
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), relayShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				cfg.Logger.Warn("relay: shutdown incomplete", "err", err)
			}
			return nil
		}
	},
}
