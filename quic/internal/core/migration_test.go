package core

import (
	"container/heap"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// TestMigrationRebinding moves the client to a new address in the middle
// of a transfer; the old address goes dead. The server must follow, validate
// and finish the transfer.
func TestMigrationRebinding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		to      string
		ccReset bool
	}{
		{"port", "10.0.0.1:4242", false},
		{"host", "10.9.9.9:5555", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLink(t, 7)
			l.runUntil(l.established, 5*time.Second)
			l.settle(2 * time.Second)
			old, moved := l.cAddr, UDPAddr(netip.MustParseAddrPort(tc.to))
			sent := 0
			var mtuAfter int
			l.drop = func(toServer bool, d []byte) bool {
				if toServer {
					if sent++; sent == 200 {
						l.cAddr = moved
						l.unreachable[old] = true
					}
				}
				return false
			}
			transfer(t, l, 2<<20, time.Minute)
			mtuAfter = l.server.Stats().MaxDatagramSize
			p := l.server.paths[0]
			if p.addr != moved || !p.validated || p.mig != nil {
				t.Fatalf("server path %v validated %v migrating %v", p.addr, p.validated, p.mig != nil)
			}
			s := l.server.Stats()
			if s.Migrations != 1 || s.MigrationsReverted != 0 {
				t.Errorf("migrations %d reverted %d", s.Migrations, s.MigrationsReverted)
			}
			if tc.ccReset && l.server.paths[0].mtu.current == MinMTU && mtuAfter == MinMTU {
				// The MTU was reset for the new host; it climbs again.
				l.settle(2 * time.Second)
				if got := l.server.Stats().MaxDatagramSize; got != DefaultMTUUpperBound {
					t.Errorf("server MTU %d after re-probing the new path", got)
				}
			}
			// The connection keeps working on the new address.
			transfer(t, l, 64<<10, time.Minute)
		})
	}
}

// TestMigrationSpoofedSource has an attacker race a copy of a client
// packet from its own address. The server may move there, but it sends at
// most three times what it got from the attacker, and returns to the
// client's address.
func TestMigrationSpoofedSource(t *testing.T) {
	for _, tc := range []struct {
		name   string
		silent bool // the client says nothing for a while: validation times out
	}{
		{"client-continues", false},
		{"validation-timeout", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLink(t, 8)
			l.runUntil(l.established, 5*time.Second)
			l.settle(2 * time.Second)
			attacker := UDPAddr(netip.MustParseAddrPort("192.0.2.66:666"))
			l.unreachable[attacker] = true // nothing the server sends there comes back
			forged, quietUntil := 0, time.Time{}
			l.drop = func(toServer bool, d []byte) bool {
				if !toServer {
					return false
				}
				if forged == 0 {
					forged = len(d)
					l.sent++
					// The copy arrives first; the real one becomes a duplicate.
					heap.Push(&l.queue, flight{at: l.now.Add(l.delay / 2), from: attacker, toServer: true, data: append([]byte(nil), d...), seq: l.sent})
					if tc.silent {
						quietUntil = l.now.Add(3 * time.Second)
					}
					return false
				}
				return l.now.Before(quietUntil)
			}
			l.client.Ping()
			l.settle(4 * time.Second)
			s := l.server.Stats()
			p := l.server.paths[0]
			if forged == 0 {
				t.Fatal("nothing forged")
			}
			if p.addr != l.cAddr || !p.validated || p.mig != nil {
				t.Fatalf("server at %v validated %v migrating %v", p.addr, p.validated, p.mig != nil)
			}
			if s.MigrationsReverted != 1 || s.Migrations != 0 {
				t.Errorf("migrations %d reverted %d", s.Migrations, s.MigrationsReverted)
			}
			if got := l.bytesVia[attacker]; got == 0 || got > 3*forged {
				t.Errorf("server sent %d bytes to the attacker after receiving %d", got, forged)
			}
			transfer(t, l, 256<<10, time.Minute)
		})
	}
}

// TestOffPathChallengeAnsweredThere: a PATH_CHALLENGE from an address that
// is not the path's is answered to that address, and the server stays put.
func TestOffPathChallengeAnsweredThere(t *testing.T) {
	l := newLink(t, 9)
	l.runUntil(l.established, 5*time.Second)
	l.settle(time.Second)
	probe := UDPAddr(netip.MustParseAddrPort("10.0.0.1:7777"))
	p := l.server.paths[0]
	l.server.rxLen = 1200
	l.server.rxFrom = probe
	if err := l.server.handleFrame(l.now, 2, p, nil, &challengeFrame); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, to := l.server.PollTransmit(l.now, buf)
	if n < MinMTU || to != probe {
		t.Fatalf("response of %d bytes to %v, want ≥ %d to %v", n, to, MinMTU, probe)
	}
	if p.addr != l.cAddr || !p.validated {
		t.Fatalf("server moved to %v", p.addr)
	}
}

var challengeFrame = wire.Frame{Type: wire.FramePathChallenge, PathData: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}
