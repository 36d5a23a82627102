package core

import (
	"crypto/rand"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// natConfig enables multipath and NAT traversal on both sides, for a
// link that starts before the handshake; with candidates the server
// announces serverCandidates in its first flight.
func natConfig(candidates bool) func(c, s *Config) {
	return func(c, s *Config) {
		c.Multipath, s.Multipath = true, true
		c.NatTraversal, s.NatTraversal = true, true
		if candidates {
			s.NatAddresses = serverCandidates
		}
	}
}

func newNatLink(t *testing.T, seed uint64, clientNAT, serverNAT bool) *link {
	t.Helper()
	l := newLinkWith(t, seed, func(c, s *Config) {
		c.Multipath, s.Multipath = true, true
		c.NatTraversal, s.NatTraversal = clientNAT, serverNAT
	})
	l.runUntil(l.established, 5*time.Second)
	return l
}

func TestNatTraversalNegotiation(t *testing.T) {
	for _, tc := range []struct{ c, s, want bool }{{true, true, true}, {true, false, false}, {false, true, false}} {
		l := newNatLink(t, 200, tc.c, tc.s)
		if l.client.NatTraversal().Negotiated() != tc.want || l.server.NatTraversal().Negotiated() != tc.want {
			t.Fatalf("%v/%v: negotiated %v/%v", tc.c, tc.s, l.client.NatTraversal().Negotiated(), l.server.NatTraversal().Negotiated())
		}
		if !tc.want {
			if err := l.server.NatTraversal().AddAddress(l.sAddr2.UDP); !errors.Is(err, ErrNatTraversalNotNegotiated) {
				t.Fatalf("AddNatAddress: %v", err)
			}
		}
	}
	// Without multipath there is no NAT traversal either.
	l := newLinkWith(t, 201, func(c, s *Config) { c.NatTraversal, s.NatTraversal = true, true })
	l.runUntil(l.established, 5*time.Second)
	if l.client.NatTraversal().Negotiated() || l.server.NatTraversal().Negotiated() {
		t.Fatal("NAT traversal without multipath")
	}
	if l.client.params.local.MaxRemoteNATAddresses != 0 {
		t.Fatal("advertised NAT traversal without multipath")
	}
}

// TestNatTraversalRound: the server announces a reachable and an
// unreachable candidate, the client starts a round with its second
// address; both sides probe, the reachable pair opens a Backup path and
// the dead candidate gets exactly nine probes.
func TestNatTraversalRound(t *testing.T) {
	l := newNatLink(t, 202, true, true)
	bogus := UDPAddr(netip.MustParseAddrPort("192.0.2.9:9"))
	l.unreachable[bogus] = true
	if err := l.server.NatTraversal().AddAddress(l.sAddr2.UDP); err != nil {
		t.Fatal(err)
	}
	if err := l.server.NatTraversal().AddAddress(bogus.UDP); err != nil {
		t.Fatal(err)
	}
	if err := l.client.NatTraversal().AddAddress(l.cAddr2.UDP); !errors.Is(err, ErrNatWrongSide) {
		t.Fatalf("client AddNatAddress: %v", err)
	}
	l.runUntil(func() bool {
		s := l.client.mp.set(1)
		return len(l.client.NatTraversal().RemoteAddresses()) == 2 && s != nil && s.remote.usable()
	}, 5*time.Second)
	if err := l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP}); err != nil {
		t.Fatal(err)
	}
	l.waitClientEvent(EventPathValidated, 1, 10*time.Second)
	p := l.client.paths.byID(1)
	if p.addr != l.sAddr2 || p.mp.status != PathBackup {
		t.Fatalf("hole-punched path to %v status %v", p.addr, p.mp.status)
	}
	if l.frames[wire.FrameReachOutIPv6] != 1 || l.frames[wire.FrameAddAddressIPv4]+l.frames[wire.FrameAddAddressIPv6] != 2 {
		t.Fatalf("frames: %v", l.frames)
	}
	// The server's probe to the client's address is answered too (the
	// client's path was usable on its own probe's answer, before this).
	l.runUntil(func() bool { return l.server.nat.prober.probes[0].done }, time.Second)
	// Let the dead candidate's retries run out: ~4 s.
	end := l.now.Add(10 * time.Second)
	l.runUntil(func() bool { return !l.now.Before(end) }, 15*time.Second)
	if n := l.sentTo[bogus]; n != natProbeAttempts {
		t.Fatalf("%d probes to the unreachable candidate", n)
	}
	if len(l.client.paths) != 2 || l.client.Err() != nil {
		t.Fatalf("paths %+v err %v", l.client.Paths(), l.client.Err())
	}
	// REMOVE_ADDRESS withdraws a candidate.
	l.server.NatTraversal().RemoveAddress(bogus.UDP)
	l.runUntil(func() bool { return len(l.client.NatTraversal().RemoteAddresses()) == 1 }, 5*time.Second)
	transfer(t, l, 64<<10, 10*time.Second)
}

func TestNatTraversalWrongSideFrames(t *testing.T) {
	l := newNatLink(t, 203, true, true)
	// A client may not send ADD_ADDRESS; a server may not send REACH_OUT.
	if err := l.server.handleNatFrame(l.now, &wire.Frame{Type: wire.FrameAddAddressIPv4, Addr: l.cAddr.UDP}); err == nil {
		t.Fatal("server accepted ADD_ADDRESS")
	}
	if err := l.client.handleNatFrame(l.now, &wire.Frame{Type: wire.FrameReachOutIPv4, Sequence: 1, Addr: l.sAddr.UDP}); err == nil {
		t.Fatal("client accepted REACH_OUT")
	}
	for i := 0; i <= NatAddressLimit; i++ {
		err := l.server.handleNatFrame(l.now, &wire.Frame{Type: wire.FrameReachOutIPv4, Sequence: 1, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, 0, byte(i)}), 1)})
		if (err != nil) != (i == NatAddressLimit) {
			t.Fatalf("REACH_OUT %d: %v", i, err)
		}
	}
}

// TestNatOffPathResponseAmplification: a NAT traversal probe answered to
// an address that is not a path's obeys the 3× rule of that datagram. A
// 35-byte spoofed challenge drew a 1200-byte answer (34×) before.
func TestNatOffPathResponseAmplification(t *testing.T) {
	for _, tc := range []struct{ recv, wantMin, wantMax int }{{35, 1, 3 * 35}, {200, 1, 3 * 200}, {400, MinMTU, MinMTU}, {1200, MinMTU, MinMTU}} {
		l := newNatLink(t, 204, true, true)
		l.settle(time.Second)
		probe := UDPAddr(netip.MustParseAddrPort("198.51.100.7:4242"))
		p := l.server.paths[0]
		pk := appPacket(p, nil, tc.recv)
		pk.rx.from = probe
		if err := l.server.handleFrame(l.now, pk, &challengeFrame); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		n, to := l.server.PollTransmit(l.now, buf)
		t.Logf("%d-byte challenge: %d-byte answer", tc.recv, n)
		if to != probe || n < tc.wantMin || n > tc.wantMax {
			t.Fatalf("%d-byte challenge: %d-byte answer to %v, want %d..%d to %v", tc.recv, n, to, tc.wantMin, tc.wantMax, probe)
		}
	}
}

// TestNatLateResponseOpensPath: a PATH_RESPONSE to a probe of the previous
// round still counts (once the client started a new round, such as when
// its port mapping arrived), but only for one round, and such probes are
// never resent.
func TestNatLateResponseOpensPath(t *testing.T) {
	now := time.Unix(0, 0)
	a := netip.MustParseAddrPort("198.51.100.7:4433")
	n := newNatProber(rand.Reader, 0)
	n.add(now, a)
	_, old, ok := n.due(now)
	if !ok {
		t.Fatal("no probe due")
	}
	n.reset() // round 2 starts before the answer came
	n.add(now, a)
	_, fresh, _ := n.due(now)
	if ok, _ := n.answered(now, UDPAddr(a), old); !ok {
		t.Fatal("the answer to the previous round's probe was ignored")
	}
	if ok, _ := n.answered(now, UDPAddr(a), fresh); !ok {
		t.Fatal("the answer to the current round's probe was ignored")
	}
	// An unanswered probe of the previous round is not resent, and is
	// forgotten a round later.
	n.add(now, a)
	_, pending, _ := n.due(now)
	n.reset()
	for later := now; later.Before(now.Add(10 * time.Second)); later = later.Add(100 * time.Millisecond) {
		if _, tok, ok := n.due(later); ok && tok == pending {
			t.Fatal("a probe of the previous round was resent")
		}
	}
	n.reset()
	if ok, _ := n.answered(now, UDPAddr(a), pending); ok {
		t.Fatal("a probe two rounds old still counted")
	}
}

// TestNatProbedPathUsableAtOnce: the path a client opens on a probe's
// answer may carry data at once, one round trip before its own
// PATH_CHALLENGE is answered; its RTT starts from the probe's; the
// server's first challenge there is no "recheck"; and a path whose own
// challenge then goes unanswered is abandoned, not kept.
func TestNatProbedPathUsableAtOnce(t *testing.T) {
	for _, cut := range []bool{false, true} {
		l := newNatLink(t, 203, true, true)
		rtt := 2 * l.delay
		if err := l.server.NatTraversal().AddAddress(l.sAddr2.UDP); err != nil {
			t.Fatal(err)
		}
		l.runUntil(func() bool {
			s := l.client.mp.set(1)
			return len(l.client.NatTraversal().RemoteAddresses()) == 1 && s != nil && s.remote.usable()
		}, 5*time.Second)
		start := l.now
		if err := l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP}); err != nil {
			t.Fatal(err)
		}
		l.runUntil(func() bool {
			l.drainEvents()
			_, ok := hasEvent(l.clientEvents, EventPathValidated, 1)
			return ok
		}, 10*time.Second)
		p := l.client.paths.byID(1)
		if took := l.now.Sub(start); took > rtt*3/2 {
			t.Fatalf("path usable %v after the round started; the probe's round trip is %v", took, rtt)
		}
		if !p.mp.provisional || p.rec.RTT().Smoothed() != rtt {
			t.Fatalf("provisional %v, RTT %v (probe's: %v)", p.mp.provisional, p.rec.RTT().Smoothed(), rtt)
		}
		if !cut {
			l.runUntil(func() bool { return !p.mp.provisional }, 5*time.Second)
			if p.mp.abandoned || !p.mp.usable {
				t.Fatalf("path abandoned %v usable %v after its challenge was answered", p.mp.abandoned, p.mp.usable)
			}
			if err := l.client.SetPathStatus(1, true); err != nil {
				t.Fatal(err)
			}
			transfer(t, l, 64<<10, 10*time.Second)
			if n := l.server.PeerRechecks() + l.client.PeerRechecks(); n != 0 {
				t.Fatalf("%d peer rechecks: a first validation counted as one", n)
			}
			continue
		}
		// The path's own challenge is lost for good (say, 1200-byte
		// datagrams do not fit where the small probe did).
		l.pathLoss = map[Addr]float64{l.cAddr2: 1}
		l.runUntil(func() bool {
			l.drainEvents()
			_, ok := hasEvent(l.clientEvents, EventPathAbandoned, 1)
			return ok
		}, 10*time.Second)
		if l.client.Err() != nil {
			t.Fatal(l.client.Err())
		}
		transfer(t, l, 16<<10, 10*time.Second)
	}
}

// TestNatCandidatesWithFirstFlight: a server's configured candidates and
// its CIDs for every path go out as 0.5-RTT data, so the client has them
// when its handshake completes, not a round trip later, and can open a
// path as soon as a probe is answered; the server sends nothing else
// early, and the connection then works as usual.
func TestNatCandidatesWithFirstFlight(t *testing.T) {
	l := newLinkWith(t, 204, natConfig(true))
	l.runUntil(func() bool { return l.client.tls.State().Complete }, 5*time.Second)
	if got := l.client.NatTraversal().RemoteAddresses(); len(got) != 1 || got[0] != l.sAddr2.UDP {
		t.Fatalf("client's candidates at its handshake's completion: %v", got)
	}
	for typ := range l.frames {
		switch typ {
		case wire.FramePadding, wire.FrameAddAddressIPv4, wire.FrameAddAddressIPv6, wire.FramePathNewConnectionID:
		default:
			t.Fatalf("the server sent more than its candidates and CIDs before completing: %v", l.frames)
		}
	}
	l.runUntil(func() bool { s := l.client.mp.set(1); return s != nil && s.remote.usable() }, 5*time.Second)
	if l.server.tls.State().Complete {
		t.Fatal("the server's CIDs for path 1 came only after its completion")
	}
	l.runUntil(l.established, 5*time.Second)
	if err := l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP}); err != nil {
		t.Fatal(err)
	}
	l.waitClientEvent(EventPathValidated, 1, 10*time.Second)
	transfer(t, l, 32<<10, 10*time.Second)
}

// TestNatProbeBeforeServerFinished: the client knows the server's
// candidates from its first flight and probes them at once, while its
// Finished is still on the way (here: lost once). The server keeps the
// probe it cannot read yet and answers it as soon as the Finished
// arrives (and again, for noq clients that drop it until our
// HANDSHAKE_DONE arrives), instead of leaving the client to wait for a
// probe retry; the client opens the path although the answer overtook
// the server's connection IDs for it.
// probeBeforeServerFinished runs a link until the server completes, with
// the client's Finished lost once and a probe of the client's kept by the
// server until then.
func probeBeforeServerFinished(t *testing.T) *link {
	t.Helper()
	l := newLinkWith(t, 205, natConfig(true))
	dropped := false
	l.drop = func(toServer bool, d []byte) bool {
		// The client's first Handshake packet once complete: its Finished.
		if !toServer || dropped {
			return false
		}
		for len(d) > 0 {
			pkt, rest, h, err := wire.SplitPacket(d, LocalCIDLen)
			if err != nil {
				return false
			}
			if h.Type == wire.PacketHandshake && l.client.tls.State().Complete {
				dropped = true
				return true
			}
			_, d = pkt, rest
		}
		return false
	}
	l.runUntil(func() bool { return l.client.tls.State().Complete }, 5*time.Second)
	if err := l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP}); err != nil {
		t.Fatal(err)
	}
	kept := false
	l.runUntil(func() bool {
		kept = kept || len(l.server.earlyApp) > 0
		return l.server.tls.State().Complete
	}, 5*time.Second)
	if !dropped || !kept {
		t.Fatalf("Finished dropped %v, probe kept %v", dropped, kept)
	}
	return l
}

// TestServerHandshakeDoneFirst: at completion the server's first datagram
// carries HANDSHAKE_DONE on the data path, before its answer to the
// client's probe, which the client could not take before it.
func TestServerHandshakeDoneFirst(t *testing.T) {
	l := probeBeforeServerFinished(t)
	var to []Addr
	for {
		n, a := l.server.PollTransmit(l.now, l.buf)
		if n == 0 {
			break
		}
		if len(to) == 0 && l.frames[wire.FrameHandshakeDone] != 1 {
			t.Fatalf("the first datagram after completion (to %v) lacks HANDSHAKE_DONE: %v", a, l.frames)
		}
		to = append(to, a)
	}
	if len(to) < 2 || to[0] != l.cAddr || !slices.Contains(to, l.cAddr2) {
		t.Fatalf("datagrams at completion went to %v; want the data path %v first, then the answer to %v", to, l.cAddr, l.cAddr2)
	}
	// Once the client opens a path from cAddr2 it had an answer: the
	// repeats stop, and it counts as confirmed.
	l.runUntil(func() bool { return l.server.paths.byID(1) != nil }, 5*time.Second)
	pr := &l.server.nat.prober
	owed := slices.ContainsFunc(pr.answers, func(op offPath) bool { return op.to == l.cAddr2 }) ||
		slices.ContainsFunc(pr.repeats, func(r repeatAnswer) bool { return r.op.to == l.cAddr2 })
	if owed || !l.server.nat.server.peerConfirmed {
		t.Fatalf("after the client opened a path: answers still owed there %v, confirmed %v", owed, l.server.nat.server.peerConfirmed)
	}
}

func TestNatProbeBeforeServerFinished(t *testing.T) {
	l := probeBeforeServerFinished(t)
	// The answer goes at once; noq clients drop it until our
	// HANDSHAKE_DONE arrives, so it goes again ¼ to 2 round trips later.
	if n := len(l.server.nat.prober.repeats); n != 7 {
		t.Fatalf("%d repeats of the answer queued", n)
	}
	// NatTimeout names the first, for a driver that wakes precisely.
	first := l.server.nat.prober.repeats[0].at
	for _, r := range l.server.nat.prober.repeats {
		if r.at.Before(first) {
			first = r.at
		}
	}
	if at, ok := l.server.NatTimeout(); !ok || !at.Equal(first) {
		t.Fatalf("NatTimeout %v %v, first repeat at %v", at, ok, first)
	}
	sent, done := l.sentTo[l.cAddr2], l.now
	var usableAt, repeatedAt time.Time
	l.runUntil(func() bool {
		l.drainEvents()
		if _, ok := hasEvent(l.clientEvents, EventPathValidated, 1); ok && usableAt.IsZero() {
			usableAt = l.now
		}
		if len(l.server.nat.prober.repeats) == 0 && repeatedAt.IsZero() {
			repeatedAt = l.now
		}
		return !usableAt.IsZero() && !repeatedAt.IsZero()
	}, 10*time.Second)
	if took := usableAt.Sub(done); took > l.delay+time.Millisecond {
		t.Fatalf("path usable %v after the server's handshake completed; its answer to the kept probe takes %v", took, l.delay)
	}
	if rtt := done.Sub(l.server.nat.server.flightAt); repeatedAt.Sub(done) > 2*rtt+l.delay || l.sentTo[l.cAddr2]-sent < 3 {
		t.Fatalf("repeats sent by %v (round trip %v), %d answers", repeatedAt.Sub(done), rtt, l.sentTo[l.cAddr2]-sent)
	}
	if len(l.server.earlyApp) != 0 {
		t.Fatal("kept packets not released")
	}
	transfer(t, l, 32<<10, 10*time.Second)
}

// TestNatServerProbesUntilConfirmed: the probes a client's first REACH_OUT
// asks for, as our handshake completes, go again ¼, ⅜, ½, ¾, 1, 1½ and 2
// round trips later, so that a noq client (which drops them until our
// HANDSHAKE_DONE confirms its handshake) gets one soon after.
func TestNatServerProbesUntilConfirmed(t *testing.T) {
	l := newLinkWith(t, 206, natConfig(false))
	l.runUntil(func() bool { return l.client.tls.State().Complete }, 5*time.Second)
	if err := l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP}); err != nil {
		t.Fatal(err)
	}
	l.runUntil(func() bool { return l.server.nat != nil && len(l.server.nat.prober.probes) > 0 }, 5*time.Second)
	s := l.server.nat.server
	if pr := l.server.nat.prober.probes[0]; len(pr.soon) != 7 {
		t.Fatalf("probe's early retries %v (completed %v, first flight %v)", pr.soon, s.completedAt, s.flightAt)
	}
	// The prober's schedule: the first send, then the early retries, then
	// the regular ones.
	rtt := s.completedAt.Sub(s.flightAt)
	n := newNatProber(rand.Reader, 0)
	a := netip.MustParseAddrPort("198.51.100.7:4433")
	t0 := s.completedAt
	n.addSoon(t0, a, s.untilConfirmed(t0))
	var sends []time.Duration
	for at := t0; at.Before(t0.Add(200 * time.Millisecond)); at = at.Add(time.Millisecond) {
		if _, _, ok := n.due(at); ok {
			sends = append(sends, at.Sub(t0))
		}
	}
	// (The loop's millisecond steps delay each send by up to 1 ms.)
	has := func(want time.Duration) bool {
		return slices.ContainsFunc(sends, func(d time.Duration) bool { return d >= want && d < want+2*time.Millisecond })
	}
	// The regular retries (n.retryDelay) stay where they were.
	r0, r1 := n.retryDelay(0), n.retryDelay(0)+n.retryDelay(1)
	early := []time.Duration{rtt / 4, rtt * 3 / 8, rtt / 2, rtt * 3 / 4, rtt, rtt * 3 / 2, 2 * rtt}
	allEarly := !slices.ContainsFunc(early, func(d time.Duration) bool { return !has(d) })
	if len(sends) != 1+len(early)+3 || sends[0] != 0 || !allEarly || !has(r0) || !has(r1) {
		t.Fatalf("probe sends at %v (round trip %v)", sends, rtt)
	}
}

// TestNatServerResendsOnPeerConfirmed: a probe of ours that the client
// may have dropped before its handshake was confirmed goes again the
// moment it acknowledges our HANDSHAKE_DONE, and the answers of that time
// too.
func TestNatServerResendsOnPeerConfirmed(t *testing.T) {
	l := newLinkWith(t, 207, natConfig(false))
	l.runUntil(func() bool { return l.client.tls.State().Complete }, 5*time.Second)
	if err := l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP}); err != nil {
		t.Fatal(err)
	}
	l.unreachable[l.cAddr2] = true // dropped, as by an unconfirmed noq client
	l.runUntil(func() bool { return l.server.nat != nil && l.server.nat.server.peerConfirmed }, 5*time.Second)
	l.unreachable[l.cAddr2] = false
	sent := l.sentTo[l.cAddr2]
	l.flush() // what the server sends at this instant
	if l.sentTo[l.cAddr2] == sent {
		t.Fatal("probe not resent when the client confirmed")
	}
	if s := l.server.nat.server; len(s.early) != 0 || len(l.server.nat.prober.repeats) != 0 || len(s.untilConfirmed(l.now)) != 0 {
		t.Fatal("resends still scheduled after the client confirmed")
	}
	l.waitClientEvent(EventPathValidated, 1, 5*time.Second)
}

// serverCandidates is a server's NatAddresses: its second address.
func serverCandidates() []netip.AddrPort {
	return []netip.AddrPort{netip.MustParseAddrPort("[fd00::2]:2001")}
}

// waitClientEvent runs l until the client reported kind on path id.
func (l *link) waitClientEvent(kind EventKind, id PathID, limit time.Duration) {
	l.t.Helper()
	l.runUntil(func() bool {
		l.drainEvents()
		_, ok := hasEvent(l.clientEvents, kind, id)
		return ok
	}, limit)
}
