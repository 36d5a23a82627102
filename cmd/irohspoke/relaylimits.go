package main

import (
	"flag"
	"time"

	"github.com/alkdev/irohspoke/relay"
	"github.com/alkdev/irohspoke/relay/relayproto"
)

// relayLimitFlags are the relay server's timeouts and connection caps,
// defaulting to the library's.
type relayLimitFlags struct {
	requestTimeout, idleTimeout, loginTimeout *time.Duration
	maxConns, maxConnsPerIP                   *int
}

func addRelayLimitFlags(fs *flag.FlagSet) *relayLimitFlags {
	return &relayLimitFlags{
		requestTimeout: fs.Duration("request-timeout", relay.DefaultRequestTimeout, "read each plain HTTP request and write its answer within `DURATION`"),
		idleTimeout:    fs.Duration("idle-timeout", relay.DefaultIdleTimeout, "close keep-alive connections idle for `DURATION`"),
		loginTimeout:   fs.Duration("login-timeout", relayproto.ServerEstablishTimeout, "close connections not logged in to the relay within `DURATION`"),
		maxConns:       fs.Int("max-conns", 0, "hold at most `N` TCP connections, logged in or not (0: 10000, lowered to 3/4 of the open-file limit; -1: no cap)"),
		maxConnsPerIP:  fs.Int("max-conns-per-ip", relay.DefaultMaxConnsPerIP, "hold at most `N` connections from one IPv4 address or IPv6 /64 (-1: no cap)"),
	}
}

// apply checks the flags and sets them in cfg.
func (f *relayLimitFlags) apply(cfg *relay.ServerConfig) error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--request-timeout", *f.requestTimeout}, {"--idle-timeout", *f.idleTimeout}, {"--login-timeout", *f.loginTimeout}} {
		if d.v <= 0 {
			return usageErrorf("%s must be positive", d.name)
		}
	}
	if *f.maxConns < -1 {
		return usageErrorf("--max-conns must be -1 (no cap), 0 (default) or positive")
	}
	if *f.maxConnsPerIP < -1 || *f.maxConnsPerIP == 0 {
		return usageErrorf("--max-conns-per-ip must be -1 (no cap) or positive")
	}
	cfg.RequestTimeout, cfg.IdleTimeout, cfg.EstablishTimeout = *f.requestTimeout, *f.idleTimeout, *f.loginTimeout
	cfg.MaxConns, cfg.MaxConnsPerIP = *f.maxConns, *f.maxConnsPerIP
	return nil
}
