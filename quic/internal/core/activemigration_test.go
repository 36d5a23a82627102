package core

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestActiveMigration: in the middle of a transfer the client's address
// changes (the old one goes dead) and the client migrates: the server
// sees a connection ID it had not seen from the new address, validates
// the address, the client's own challenge is answered, the old
// connection ID is retired, and every byte arrives.
func TestActiveMigration(t *testing.T) {
	l := newLink(t, 11)
	l.runUntil(l.established, 5*time.Second)
	l.settle(2 * time.Second)
	old, moved := l.cAddr, UDPAddr(netip.MustParseAddrPort("10.9.9.9:5555"))
	oldDCID := bytes.Clone(l.client.paths[0].remote.active())
	sent := 0
	var newDCID []byte
	var seenFrom []Addr // addresses the server received the new DCID from
	l.drop = func(toServer bool, d []byte) bool {
		if !toServer {
			return false
		}
		if newDCID != nil && bytes.Equal(d[1:1+LocalCIDLen], newDCID) {
			seenFrom = append(seenFrom, l.cAddr)
		}
		if sent++; sent == 200 {
			l.cAddr = moved
			l.unreachable[old] = true
			if err := l.client.Migrate(l.now); err != nil {
				t.Errorf("Migrate: %v", err)
			}
			newDCID = bytes.Clone(l.client.paths[0].remote.active())
		}
		return false
	}
	transfer(t, l, 2<<20, time.Minute)
	if newDCID == nil || bytes.Equal(newDCID, oldDCID) {
		t.Fatalf("destination CID %x after migrating, was %x", newDCID, oldDCID)
	}
	for _, a := range seenFrom {
		if a != moved {
			t.Fatalf("the new CID was used from %v", a)
		}
	}
	if len(seenFrom) == 0 {
		t.Fatal("the new CID was never used")
	}
	sp := l.server.paths[0]
	if sp.addr != moved || !sp.validated || sp.mig != nil {
		t.Fatalf("server path %v validated %v migrating %v", sp.addr, sp.validated, sp.mig != nil)
	}
	l.settle(time.Second)
	if sp.local.contains(oldDCID) {
		t.Fatal("the server still has the CID the client used before moving")
	}
	for _, c := range []*Conn{l.client, l.server} {
		if s := c.Stats(); s.Migrations != 1 || s.MigrationsReverted != 0 {
			t.Errorf("%v: migrations %d reverted %d", c.side, s.Migrations, s.MigrationsReverted)
		}
	}
	if l.client.paths[0].mig != nil {
		t.Fatal("the client's migration never completed")
	}
	transfer(t, l, 64<<10, time.Minute)
}

// TestActiveMigrationFailsBack: no answer to the client's challenge
// within three PTOs puts the old path's estimates back.
func TestActiveMigrationFailsBack(t *testing.T) {
	l := newLink(t, 12)
	l.runUntil(l.established, 5*time.Second)
	transfer(t, l, 256<<10, time.Minute)
	l.settle(time.Second)
	p := l.client.paths[0]
	rtt := p.rec.RTT().Smoothed()
	cut := true
	l.drop = func(toServer bool, d []byte) bool { return cut && !toServer }
	if err := l.client.Migrate(l.now); err != nil {
		t.Fatal(err)
	}
	if p.rec.RTT().Smoothed() == rtt {
		t.Fatal("the RTT estimate was not started afresh")
	}
	l.runUntil(func() bool { return p.mig == nil }, 10*time.Second)
	if s := l.client.Stats(); s.MigrationsReverted != 1 || s.Migrations != 0 {
		t.Fatalf("migrations %d reverted %d", s.Migrations, s.MigrationsReverted)
	}
	if got := p.rec.RTT().Smoothed(); got != rtt {
		t.Fatalf("RTT after failing back %v, before migrating %v", got, rtt)
	}
	cut = false
	transfer(t, l, 64<<10, time.Minute)
}

// TestActiveMigrationRefused: only a confirmed single-path client whose
// peer allows it migrates, and only with a spare connection ID.
func TestActiveMigrationRefused(t *testing.T) {
	l := newLink(t, 13)
	if err := l.client.Migrate(l.now); !errors.Is(err, ErrNotEstablished) {
		t.Fatalf("before the handshake: %v", err)
	}
	l.runUntil(l.established, 5*time.Second)
	l.settle(time.Second)
	if err := l.server.Migrate(l.now); !errors.Is(err, ErrServerCannotMigrate) {
		t.Fatalf("server: %v", err)
	}
	l.client.paths[0].remote.ids = l.client.paths[0].remote.ids[:1]
	if err := l.client.Migrate(l.now); !errors.Is(err, ErrNoSpareCID) {
		t.Fatalf("without a spare CID: %v", err)
	}

	mp := newMPLink(t, 14, true, true)
	if err := mp.client.Migrate(mp.now); !errors.Is(err, ErrMigrateMultipath) {
		t.Fatalf("multipath: %v", err)
	}

	off := newLink(t, 15)
	off.runUntil(off.established, 5*time.Second)
	off.settle(time.Second)
	off.client.params.peer.DisableActiveMigration = true
	if err := off.client.Migrate(off.now); !errors.Is(err, ErrActiveMigrationDisabled) {
		t.Fatalf("peer disabled active migration: %v", err)
	}
}
