package irohtest

import (
	"crypto/ed25519"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/interop"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

// TestCoreNatTraversalAgainstIroh negotiates n0 NAT traversal with the
// real hub: iroh announces its addresses (ADD_ADDRESS), we start a round
// with our two sockets (REACH_OUT), both sides probe, and the probe that
// gets through opens a Backup path to the hub's other address.
func TestCoreNatTraversalAgainstIroh(t *testing.T) {
	hub := interop.StartHub(t, interop.HubOptions{})
	v4, _ := hub.AddrV4()
	id, _ := hex.DecodeString(hub.EndpointID)
	sk, _ := identity.GenerateSecretKey(nil)
	c, err := core.NewClient(&core.Config{CheckPayloads: true, Multipath: true, NatTraversal: true, TLS: &handshake.Config{
		PrivateKey: sk.PrivateKey(), ALPN: []string{"alkpubsub/1"}, PeerKey: ed25519.PublicKey(id),
	}}, time.Now(), core.UDPAddr(v4))
	if err != nil {
		t.Fatal(err)
	}
	d := newDualSock(t)
	var log []core.Event
	pumpDual(t, c, d, c.HandshakeComplete, 10*time.Second)
	if !c.NatTraversal().Negotiated() {
		t.Fatal("NAT traversal not negotiated with iroh")
	}
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return len(c.NatTraversal().RemoteAddresses()) >= 2 }, 10*time.Second)
	t.Logf("iroh announced %v", c.NatTraversal().RemoteAddresses())
	local := []netip.AddrPort{d.v4.LocalAddr().(*net.UDPAddr).AddrPort(), d.v6.LocalAddr().(*net.UDPAddr).AddrPort()}
	start := time.Now()
	if err := c.NatTraversal().StartRound(start, local); err != nil {
		t.Fatal(err)
	}
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return findEvent(log, core.EventPathValidated, 1) }, 10*time.Second)
	var p core.PathInfo
	for _, pi := range c.Paths() {
		if pi.ID == 1 {
			p = pi
		}
	}
	t.Logf("hole-punched path %+v validated %v after the round started", p, time.Since(start))
	if p.Status != core.PathBackup || p.Addr.UDP.Addr().Is4() {
		t.Fatalf("path %+v", p)
	}
	// Keep the connection running a little: iroh's path selection may act.
	until := time.Now().Add(time.Second)
	pumpDual(t, c, d, func() bool { drainEvents(c, &log); return time.Now().After(until) }, 5*time.Second)
	for _, e := range log {
		if e.Kind >= core.EventPathOpened {
			t.Logf("event %+v", e)
		}
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	c.Close(time.Now(), 0, "done")
	pumpDual(t, c, d, c.IsClosed, 5*time.Second)
}
