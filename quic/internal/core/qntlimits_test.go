package core

import (
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// reachOut makes the server handle a REACH_OUT as the client could send it.
func reachOut(t *testing.T, l *link, round uint64, ap netip.AddrPort) error {
	t.Helper()
	typ := wire.FrameReachOutIPv4
	if ap.Addr().Is6() {
		typ = wire.FrameReachOutIPv6
	}
	return l.server.handleNatFrame(l.now, &wire.Frame{Type: typ, Sequence: round, Addr: ap})
}

// TestNatRoundFloodBounded is the review's probe in the core: a client
// starts a new hole-punching round every 20 ms for 5 s, each naming 32
// addresses of third parties. Every round re-armed 32 probes: 242 rounds
// sent 7,936 datagrams to arbitrary addresses. Rounds are now
// limited to natRoundBurst per natRoundBurst × natMinRoundGap, and
// probes share a token bucket.
func TestNatRoundFloodBounded(t *testing.T) {
	l := newNatLink(t, 205, true, true)
	l.settle(time.Second)
	victims := map[Addr]bool{}
	start := l.now
	round := uint64(0)
	for l.now.Sub(start) < 5*time.Second {
		round++
		for i := range NatAddressLimit {
			ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), 9)
			victims[UDPAddr(ap)], l.unreachable[UDPAddr(ap)] = true, true
			if err := reachOut(t, l, round, ap); err != nil {
				t.Fatal(err)
			}
		}
		l.settle(20 * time.Millisecond)
	}
	l.settle(10 * time.Second) // let the last round's retries run out
	sent := 0
	for a := range victims {
		sent += l.sentTo[a]
	}
	elapsed := l.now.Sub(start)
	t.Logf("%d rounds: %d datagrams to third parties in %v", round, sent, elapsed)
	if limit := natProbeBurst + int(elapsed/natProbeEvery); sent > limit {
		t.Fatalf("%d probes in %v, want at most %d", sent, elapsed, limit)
	}
	if l.server.Err() != nil {
		t.Fatal(l.server.Err())
	}
}

// TestNatTargetsFiltered: a REACH_OUT naming a loopback, unspecified or
// multicast address, or port 0, draws no probe from a server whose peer
// is not on loopback itself; a routable address does.
func TestNatTargetsFiltered(t *testing.T) {
	l := newNatLink(t, 206, true, true)
	l.settle(time.Second)
	bad := []string{"127.0.0.1:22", "[::1]:22", "0.0.0.0:53", "[::]:53", "224.0.0.251:5353", "[ff02::fb]:5353", "255.255.255.255:9", "198.51.100.1:0"}
	for _, s := range bad {
		ap := netip.MustParseAddrPort(s)
		l.unreachable[UDPAddr(ap)] = true
		if err := reachOut(t, l, 1, ap); err != nil {
			t.Fatalf("REACH_OUT %v: %v", ap, err)
		}
	}
	good := netip.MustParseAddrPort("198.51.100.1:9")
	l.unreachable[UDPAddr(good)] = true
	if err := reachOut(t, l, 1, good); err != nil {
		t.Fatal(err)
	}
	l.settle(time.Second)
	for _, s := range bad {
		if n := l.sentTo[UDPAddr(netip.MustParseAddrPort(s))]; n != 0 {
			t.Errorf("%d probes to %v", n, s)
		}
	}
	if l.sentTo[UDPAddr(good)] == 0 {
		t.Error("no probe to a routable candidate")
	}
}

// TestNatRoundGap: natRoundBurst rounds start at once; one more waits
// until the oldest leaves the window, and the newest waiting round
// replaces the one that had not started.
func TestNatRoundGap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var n natServer
	for _, step := range []struct{ at, want time.Duration }{
		{0, 0},
		{20 * time.Millisecond, 20 * time.Millisecond},
		{40 * time.Millisecond, 40 * time.Millisecond},
		{60 * time.Millisecond, natRoundBurst * natMinRoundGap},
		{80 * time.Millisecond, natRoundBurst * natMinRoundGap},
		{3500 * time.Millisecond, 3500 * time.Millisecond},
		{10 * natMinRoundGap, 10 * natMinRoundGap},
	} {
		n.startRemoteRound(t0.Add(step.at))
		if got := n.roundAt.Sub(t0); got != step.want {
			t.Fatalf("round started at +%v probes at +%v, want +%v", step.at, got, step.want)
		}
	}
}
