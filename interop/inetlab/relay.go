//go:build linux

package inetlab

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// Relay ports, as n0's relays use them.
const (
	RelayHTTPSPort = 443
	RelayQADPort   = 7842
	// PlainRelayPort is the plain-HTTP relay's port (Spec.PlainRelay).
	PlainRelayPort = 3340
)

// loopback is where a delayed relay listens, behind its proxy.
var loopback = netip.MustParseAddr("127.0.0.1")

// Relay is an "irohspoke relay" in the lab.
type Relay struct {
	Name  string        // DNS name without the trailing dot
	Delay time.Duration // added each way by a proxy in front of it
	Host  *natlab.Host
	Proc  *natlab.Proc
	proxy *delayProxy
}

// URL is the relay's URL as iroh writes it (RelayURL of its name).
func (r *Relay) URL() string { return RelayURL(r.Name) }

// start runs the relay with HTTPS and QAD on the host's address, or on
// loopback behind a delaying proxy on the host's address.
func (r *Relay) start(t testing.TB, l *Lab) {
	t.Helper()
	certFile, keyFile, err := l.certs.files(r.Name)
	if err != nil {
		t.Fatal(err)
	}
	serveOn := r.Host.Addr()
	if r.Delay > 0 {
		serveOn = loopback
	}
	r.Proc = l.Start(t, r.Host, nil, "relay",
		"--listen", netip.AddrPortFrom(serveOn, RelayHTTPSPort).String(),
		"--tls-cert", certFile, "--tls-key", keyFile,
		"--qad", netip.AddrPortFrom(serveOn, RelayQADPort).String())
	waitReady(t, r.Proc, nil)
	if r.Delay == 0 {
		return
	}
	r.proxy = &delayProxy{host: r.Host, public: r.Host.Addr(), delay: r.Delay}
	t.Cleanup(r.proxy.Close)
	if err := r.proxy.forwardTCP(netip.AddrPortFrom(r.Host.Addr(), RelayHTTPSPort), netip.AddrPortFrom(loopback, RelayHTTPSPort)); err != nil {
		t.Fatal(err)
	}
	if err := r.proxy.forwardUDP(netip.AddrPortFrom(r.Host.Addr(), RelayQADPort), netip.AddrPortFrom(loopback, RelayQADPort)); err != nil {
		t.Fatal(err)
	}
}

// startPlain runs a plain-HTTP relay without QAD.
func (r *Relay) startPlain(t testing.TB, l *Lab) {
	t.Helper()
	r.Proc = l.Start(t, r.Host, nil, "relay", "--listen", netip.AddrPortFrom(r.Host.Addr(), PlainRelayPort).String())
	waitReady(t, r.Proc, nil)
}

// Stop ends the relay process gracefully (SIGTERM); its proxy stays, so
// the relay's address still answers, with nothing behind it.
func (r *Relay) Stop() error { return r.Proc.Stop() }

// Kill ends the relay process with SIGKILL, as a crash would.
func (r *Relay) Kill() { r.Proc.Kill() }

// Counters are the relay host's connection and datagram counters.
func (r *Relay) Counters(ctx context.Context) (Counters, error) {
	return readCounters(ctx, r.Host.Netns)
}
