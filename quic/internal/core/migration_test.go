package core

import (
	"container/heap"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// TestMigrationRebinding moves the client to a new address in the middle
// of a transfer; the old address goes dead. The server must follow, validate
// and finish the transfer.
func TestMigrationRebinding(t *testing.T) {
	for _, tc := range []struct {
		name      string
		to        string
		ccReset   bool
		multipath bool
	}{
		{"port", "10.0.0.1:4242", false, false},
		{"host", "10.9.9.9:5555", true, false},
		{"multipath/port", "10.0.0.1:4242", false, true},
		{"multipath/host", "10.9.9.9:5555", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLinkWith(t, 7, func(c, s *Config) { c.Multipath, s.Multipath = tc.multipath, tc.multipath })
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
		name      string
		silent    bool // the client says nothing for a while: validation times out
		multipath bool
	}{
		{"client-continues", false, false},
		{"validation-timeout", true, false},
		// The review's finding: with multipath the server used to move at
		// once, unvalidated and unlimited (313 KB to the victim in 3 s).
		{"multipath/client-continues", false, true},
		{"multipath/validation-timeout", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLinkWith(t, 8, func(c, s *Config) { c.Multipath, s.Multipath = tc.multipath, tc.multipath })
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
	pk := appPacket(p, nil, 1200)
	pk.rx.from = probe
	if err := l.server.handleFrame(l.now, pk, &challengeFrame); err != nil {
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

// TestMultipathSpoofedSourceUnderLoad is the review's probe in the
// simulator: while the server streams to the client over a multipath
// connection, an attacker races one forged copy of a client packet from
// a victim's address. The victim may get at most three times the forged
// bytes (it got 313 KB in 3 s before validation was applied under
// multipath), and the transfer completes at the client's real address.
func TestMultipathSpoofedSourceUnderLoad(t *testing.T) {
	l := newMPLink(t, 12, true, true)
	l.settle(time.Second)
	victim := UDPAddr(netip.MustParseAddrPort("192.0.2.77:777"))
	l.unreachable[victim] = true
	id, err := l.server.Streams().Open(false)
	if err != nil {
		t.Fatal(err)
	}
	const size = 2 << 20
	src := make([]byte, 64<<10)
	written, received, forged := 0, 0, 0
	l.drop = func(toServer bool, d []byte) bool {
		if toServer && forged == 0 && written > size/4 {
			forged = len(d)
			l.sent++
			heap.Push(&l.queue, flight{at: l.now.Add(l.delay / 2), from: victim, toServer: true, data: append([]byte(nil), d...), seq: l.sent})
		}
		return false
	}
	var sid streams.StreamID
	accepted := false
	buf := make([]byte, 64<<10)
	l.runUntil(func() bool {
		for written < size {
			n, err := l.server.Streams().Write(id, src[:min(len(src), size-written)])
			written += n
			if err != nil || n == 0 {
				break
			}
		}
		if !accepted {
			sid, accepted = l.client.Streams().Accept(false)
		}
		for accepted {
			n, _ := l.client.Streams().Read(sid, buf)
			if n == 0 {
				break
			}
			received += n
		}
		return received == size
	}, time.Minute)
	if forged == 0 {
		t.Fatal("nothing forged")
	}
	t.Logf("victim got %d bytes after %d forged", l.bytesVia[victim], forged)
	if got := l.bytesVia[victim]; got > 3*forged {
		t.Fatalf("server sent %d bytes to the victim after receiving %d from there", got, forged)
	}
	if p := l.server.paths[0]; p.addr != l.cAddr || !p.validated {
		t.Fatalf("server path at %v, validated %v", p.addr, p.validated)
	}
}
