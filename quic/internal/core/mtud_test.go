package core

import (
	"testing"
	"time"
)

// settle runs the link for d of virtual time, however quiet it is.
func (l *link) settle(d time.Duration) {
	l.t.Helper()
	end := l.now.Add(d)
	for i := 0; ; i++ {
		l.flush()
		next := time.Time{}
		if len(l.queue) > 0 {
			next = l.queue[0].at
		}
		for _, c := range []*Conn{l.client, l.server} {
			if at, ok := c.Timeout(); ok && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		if next.IsZero() || next.After(end) {
			l.now = end
			return
		}
		if i > 1_000_000 {
			l.t.Fatal("settle: link never quiet")
		}
		l.step()
	}
}

func TestPMTUDClimbsToUpperBound(t *testing.T) {
	l := newLink(t, 1)
	var sizes []int
	l.drop = func(toServer bool, d []byte) bool {
		if toServer && len(d) > MinMTU {
			sizes = append(sizes, len(d))
		}
		return false
	}
	l.runUntil(l.established, 5*time.Second)
	l.settle(2 * time.Second)
	for _, c := range []*Conn{l.client, l.server} {
		if got := c.Stats().MaxDatagramSize; got != DefaultMTUUpperBound {
			t.Errorf("%v MTU %d, want %d", c.side, got, DefaultMTUUpperBound)
		}
	}
	// Binary search 1200..1452 with a minimum step of 20, as iroh probes.
	want := []int{1326, 1389, 1420, 1452}
	if len(sizes) != len(want) {
		t.Fatalf("client probes %v, want %v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Fatalf("client probes %v, want %v", sizes, want)
		}
	}
	if s := l.client.Stats(); s.MTUProbesSent != 4 || s.MTUProbesLost != 0 {
		t.Errorf("probes sent %d lost %d", s.MTUProbesSent, s.MTUProbesLost)
	}
	// Full-size data packets now go out.
	big := 0
	l.drop = func(toServer bool, d []byte) bool {
		if toServer && len(d) >= DefaultMTUUpperBound-8 {
			big++
		}
		return false
	}
	transfer(t, l, 1<<20, time.Minute)
	if big < 500 {
		t.Errorf("only %d datagrams of %d bytes in a 1 MiB transfer", big, DefaultMTUUpperBound)
	}
}

func TestPMTUDRespectsPeerMaxUDPPayload(t *testing.T) {
	l := newLinkWith(t, 2, func(client, server *Config) { server.MaxUDPPayload = 1300 })
	l.runUntil(l.established, 5*time.Second)
	l.settle(2 * time.Second)
	if got := l.client.Stats().MaxDatagramSize; got > 1300 || got < 1280 {
		t.Errorf("client MTU %d, want 1280..1300 (peer's max_udp_payload_size 1300)", got)
	}
	if got := l.server.Stats().MaxDatagramSize; got > 1300 || got < 1280 {
		t.Errorf("server MTU %d, want 1280..1300 (own max_udp_payload_size 1300)", got)
	}
}

func TestPMTUDDisabled(t *testing.T) {
	l := newLinkWith(t, 3, func(client, server *Config) { client.DisablePMTUD, server.DisablePMTUD = true, true })
	l.drop = func(toServer bool, d []byte) bool {
		if len(d) > MinMTU {
			t.Fatalf("datagram of %d bytes with PMTUD disabled", len(d))
		}
		return false
	}
	l.runUntil(l.established, 5*time.Second)
	transfer(t, l, 256<<10, time.Minute)
	if s := l.client.Stats(); s.MaxDatagramSize != MinMTU || s.MTUProbesSent != 0 {
		t.Errorf("MTU %d, probes %d", s.MaxDatagramSize, s.MTUProbesSent)
	}
}

func TestPMTUDStopsAtLinkMTU(t *testing.T) {
	l := newLink(t, 4)
	l.mtu = 1400
	l.runUntil(l.established, 5*time.Second)
	l.settle(10 * time.Second)
	// 1326 and 1389 pass, 1420 is lost three times, then the step to
	// the new ceiling (1419) is below the minimum change.
	s := l.client.Stats()
	if s.MaxDatagramSize != 1389 {
		t.Errorf("client MTU %d, want 1389 on a 1400-byte link", s.MaxDatagramSize)
	}
	if s.MTUProbesLost != mtuProbeAttempts || s.BlackHoles != 0 {
		t.Errorf("probes lost %d (want %d), black holes %d", s.MTUProbesLost, mtuProbeAttempts, s.BlackHoles)
	}
	if l.client.paths[0].mtu.phase != mtuDone {
		t.Errorf("search still running")
	}
	transfer(t, l, 1<<20, time.Minute)
}

func TestPMTUDProbeLossIsNotCongestion(t *testing.T) {
	l := newLink(t, 5)
	l.mtu = 1250
	l.runUntil(l.established, 5*time.Second)
	before := l.client.Stats().CongestionWindow
	l.settle(10 * time.Second)
	s := l.client.Stats()
	// 1326, 1262 and 1261 are lost three times each; 1230 passes.
	if s.MTUProbesLost != 9 || s.MaxDatagramSize != 1230 {
		t.Fatalf("probes lost %d, MTU %d", s.MTUProbesLost, s.MaxDatagramSize)
	}
	if s.CongestionWindow < before {
		t.Errorf("congestion window shrank from %d to %d on probe loss alone", before, s.CongestionWindow)
	}
}

func TestPMTUDBlackHoleFallsBack(t *testing.T) {
	l := newLink(t, 6)
	l.runUntil(l.established, 5*time.Second)
	l.settle(2 * time.Second)
	if got := l.client.Stats().MaxDatagramSize; got != DefaultMTUUpperBound {
		t.Fatalf("client MTU %d before the drop", got)
	}
	// Halfway through a transfer the path MTU drops to 1300.
	sent := 0
	l.drop = func(toServer bool, d []byte) bool {
		if toServer {
			if sent++; sent == 300 {
				l.mtu = 1300
			}
		}
		return false
	}
	transfer(t, l, 2<<20, 5*time.Minute)
	s := l.client.Stats()
	if s.BlackHoles == 0 {
		t.Fatal("no black hole detected")
	}
	if s.MaxDatagramSize > 1300 {
		t.Errorf("client MTU %d after the link shrank to 1300", s.MaxDatagramSize)
	}
	// After the cooldown the search runs again and finds the new limit.
	l.settle(mtuBlackHoleCooldown + 5*time.Second)
	if got := l.client.Stats().MaxDatagramSize; got <= MinMTU || got > 1300 {
		t.Errorf("client MTU %d after re-probing, want 1201..1300", got)
	}
}

func TestMTUSearchSteps(t *testing.T) {
	m := newMTUDiscovery(true, 1452)
	now := time.Unix(0, 0)
	var got []int
	for i := 0; i < 10; i++ {
		size := m.wantProbe(now)
		if size == 0 {
			break
		}
		got = append(got, size)
		m.onProbeSent(uint64(i))
		if size <= 1400 {
			m.onAcked(uint64(i), size)
		} else {
			m.onProbeLost(uint64(i))
		}
	}
	want := []int{1326, 1389, 1420, 1420, 1420}
	if len(got) != len(want) {
		t.Fatalf("probes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("probes %v, want %v", got, want)
		}
	}
	if m.current != 1389 || m.phase != mtuDone || !m.next.Equal(now.Add(mtuSearchInterval)) {
		t.Errorf("current %d phase %d next %v", m.current, m.phase, m.next)
	}
	if m.wantProbe(now.Add(mtuSearchInterval)) == 0 {
		t.Error("no new search after the interval")
	}
}

func TestBlackHoleDetector(t *testing.T) {
	m := newMTUDiscovery(true, 1452)
	m.current = 1452
	now := time.Unix(0, 0)
	// Small packets lost: not suspicious.
	for pn := uint64(0); pn < 20; pn += 2 {
		m.bh.onLost(pn, 1100)
		if m.blackHole(now) {
			t.Fatal("black hole from small packets")
		}
	}
	// Four separate bursts of full-size packets: a black hole.
	for i, pn := 0, uint64(100); i < 4; i, pn = i+1, pn+10 {
		m.bh.onLost(pn, 1452)
		m.bh.onLost(pn+1, 1452)
		if hit := m.blackHole(now); hit != (i == 3) {
			t.Fatalf("burst %d: black hole %v", i, hit)
		}
	}
	if m.current != MinMTU || m.phase != mtuDone || !m.next.Equal(now.Add(mtuBlackHoleCooldown)) {
		t.Errorf("after black hole: current %d phase %d", m.current, m.phase)
	}
	// A later acknowledged full-size packet clears suspicion.
	m.current = 1452
	for i, pn := 0, uint64(200); i < 3; i, pn = i+1, pn+10 {
		m.bh.onLost(pn, 1452)
		m.blackHole(now)
	}
	m.bh.onAcked(300, 1452)
	m.bh.onLost(400, 1452)
	if m.blackHole(now) {
		t.Error("black hole despite a later acknowledged full-size packet")
	}
}

// FuzzMTUSearch drives the PMTU search and black-hole detector with
// arbitrary outcomes: probe sizes stay within [1200, upper], the search
// ends after a bounded number of probes, and the MTU never exceeds the
// largest acknowledged probe.
func FuzzMTUSearch(f *testing.F) {
	f.Add(uint16(1452), []byte{1, 1, 1, 1})
	f.Add(uint16(1300), []byte{0, 0, 0, 1, 0})
	f.Add(uint16(1500), []byte{2, 2, 2, 2, 2, 2, 2, 2, 1})
	f.Fuzz(func(t *testing.T, upper uint16, outcomes []byte) {
		m := newMTUDiscovery(true, int(upper))
		now := time.Unix(0, 0)
		pn := uint64(0)
		probes, largestAcked := 0, MinMTU
		for _, o := range outcomes {
			pn++
			switch o % 4 {
			case 0, 1: // a probe, acknowledged (1) or lost (0)
				size := m.wantProbe(now)
				if size == 0 {
					continue
				}
				if probes++; probes > 64 {
					t.Fatal("search does not end")
				}
				if size < MinMTU || size > max(int(upper), MinMTU) {
					t.Fatalf("probe of %d bytes, upper %d", size, upper)
				}
				m.onProbeSent(pn)
				if o%4 == 1 {
					m.onAcked(pn, size)
					largestAcked = max(largestAcked, size)
				} else {
					m.onProbeLost(pn)
				}
			case 2: // a full-size data packet lost
				m.bh.onLost(pn, m.current)
				m.blackHole(now)
			case 3: // a data packet acknowledged
				m.onAcked(pn, m.current)
			}
			if m.current < MinMTU || m.current > largestAcked {
				t.Fatalf("MTU %d, largest acknowledged probe %d", m.current, largestAcked)
			}
			now = now.Add(time.Second)
		}
	})
}
