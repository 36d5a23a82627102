// Command relayprobe measures how a relay server or client copes with
// hostile peers. Every probe talks to loopback only. Modes:
//
//	relayprobe headers             a fake relay sends endless upgrade headers
//	relayprobe idle   [-n 200]     idle keep-alive and slow-body connections
//	relayprobe logins [-n 20000]   upgraded sockets that never log in
//	relayprobe flood  [-kind text] text frames or WebSocket pings past the rate limit
//
// The server side runs in a child process (relayprobe serve), so that its
// RSS and file descriptors can be read from /proc.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: relayprobe serve|headers|idle|logins|flood [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var run func() error
	switch os.Args[1] {
	case "serve":
		rate := fs.Int64("rate", 0, "per-client rate limit in bytes/s")
		run = func() error { return serve(*rate) }
	case "headers":
		run = probeHeaders
	case "idle":
		n := fs.Int("n", 200, "connections of each kind")
		wait := fs.Duration("wait", 40e9, "how long to wait before counting")
		run = func() error { return probeIdle(*n, *wait) }
	case "logins":
		n := fs.Int("n", 20000, "attacker sockets")
		run = func() error { return probeLogins(*n) }
	case "flood":
		kind := fs.String("kind", "text", "text or ping")
		rate := fs.Int64("rate", 20000, "relay rate limit in bytes/s")
		dur := fs.Duration("for", 6e9, "flood duration")
		run = func() error { return probeFlood(*kind, *rate, *dur) }
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
	_ = fs.Parse(os.Args[2:])
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "relayprobe:", err)
		os.Exit(1)
	}
}
