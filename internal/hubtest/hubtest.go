// Package hubtest runs QUIC endpoints and Go hubs on loopback for tests,
// and lets them wait for spokes to arrive instead of polling.
package hubtest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/hub"
	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/internal/notify"
	"github.com/alkdev/irohspoke/quic"
)

// Endpoint binds a QUIC endpoint on a random loopback port, closed when
// the test ends.
func Endpoint(t testing.TB, cfg quic.Config) *quic.Endpoint {
	t.Helper()
	tr, err := quic.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep, err := quic.NewEndpoint(tr, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return ep
}

// Hub is a Go hub serving on loopback.
type Hub struct {
	*hub.Hub
	Addr    identity.EndpointAddr
	changed notify.Signal // a spoke came or went
}

// Start serves a hub with opts on a loopback endpoint until the test
// ends. OnConnect and OnDisconnect in opts still run.
func Start(t testing.TB, opts hub.Options) *Hub {
	t.Helper()
	ep := Endpoint(t, quic.Config{ALPNs: []string{hub.ALPN}})
	h := &Hub{}
	onConnect, onDisconnect := opts.OnConnect, opts.OnDisconnect
	opts.OnConnect = func(s *hub.Spoke) {
		if onConnect != nil {
			onConnect(s)
		}
		h.changed.Notify()
	}
	opts.OnDisconnect = func(s *hub.Spoke, err error) {
		if onDisconnect != nil {
			onDisconnect(s, err)
		}
		h.changed.Notify()
	}
	h.Hub = hub.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Serve(ctx, ep)
	}()
	t.Cleanup(func() {
		cancel()
		h.Close()
		<-done
	})
	ap := netip.MustParseAddrPort(ep.LocalAddr().String())
	h.Addr = identity.EndpointAddr{ID: ep.ID(), Addrs: []netip.AddrPort{ap}}
	return h
}

// WaitSpokes waits until the hub serves n spokes, checking again whenever
// one comes or goes, and fails the test after within.
func (h *Hub) WaitSpokes(t testing.TB, n int, within time.Duration) {
	t.Helper()
	if !h.changed.Until(within, func() bool { return len(h.Spokes()) == n }) {
		t.Fatalf("%d spokes registered, want %d", len(h.Spokes()), n)
	}
}
