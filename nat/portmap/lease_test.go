package portmap

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestPreferenceOrder(t *testing.T) {
	cases := []struct {
		name      string
		available []Protocol
		failing   []Protocol
		want      Protocol
	}{
		{"all three: PCP", []Protocol{PCP, NATPMP, UPnP}, nil, PCP},
		{"no PCP: NAT-PMP", []Protocol{NATPMP, UPnP}, nil, NATPMP},
		{"only UPnP", []Protocol{UPnP}, nil, UPnP},
		{"none answers: UPnP anyway (iroh's fallback)", nil, nil, UPnP},
		{"PCP fails: NAT-PMP next", []Protocol{PCP, NATPMP}, []Protocol{PCP}, NATPMP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(c.available...)
			for _, p := range c.failing {
				w.clients[p].fail = true
			}
			w.start(t, Options{})
			e := w.event(t)
			if e.Protocol != c.want || e.Version != 1 || e.External != netip.AddrPortFrom(netip.MustParseAddr("5.5.5.1"), 40000+uint16(c.want)) {
				t.Fatalf("event %+v, want a %v mapping", e, c.want)
			}
			w.sync(t) // the rest of the probe round may end after the event
			for _, p := range preference {
				probes, _, _ := w.clients[p].counts()
				if probes != 1 {
					t.Errorf("%v probed %d times, want once", p, probes)
				}
			}
		})
	}
}

func TestFallbackWithoutUPnP(t *testing.T) {
	w := newWorld()
	w.clients[UPnP] = nil
	w.clients[PCP].fail = true
	w.start(t, Options{})
	w.sync(t)
	// Nothing answered the probe just now: iroh tries nothing for 5 s.
	if _, maps, _ := w.clients[PCP].counts(); maps != 0 {
		t.Fatalf("PCP tried %d times right after a silent probe", maps)
	}
	w.clock.Advance(unavailabilityTrust)
	w.m.Procure()
	w.sync(t)
	// A new probe round finds nothing again, so again nothing is tried.
	if probes, maps, _ := w.clients[NATPMP].counts(); probes != 2 || maps != 0 {
		t.Fatalf("NAT-PMP probes %d maps %d", probes, maps)
	}
	if s := w.m.Stats(); s.Failures != 2 || s.Probes != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRenewAtHalfLifetime(t *testing.T) {
	w := newWorld(PCP)
	w.start(t, Options{})
	first := w.event(t)
	w.sync(t) // the renewal timer is armed before the clock moves
	w.clock.Advance(49 * time.Second)
	w.sync(t)
	if _, maps, _ := w.clients[PCP].counts(); maps != 1 {
		t.Fatalf("%d map requests before half the lifetime", maps)
	}
	w.clock.Advance(time.Second)
	w.sync(t)
	if _, maps, _ := w.clients[PCP].counts(); maps != 2 {
		t.Fatalf("%d map requests at half the lifetime, want the renewal", maps)
	}
	req := w.clients[PCP].lastMap()
	if req.prefer != first.External || req.prev == nil || req.prev.nonce[0] != 1 || req.lifetime != pcpLifetime {
		t.Fatalf("renewal request %+v", req)
	}
	// The next renewal is half a lifetime after this one.
	w.clock.Advance(49 * time.Second)
	w.sync(t)
	if _, maps, _ := w.clients[PCP].counts(); maps != 2 {
		t.Fatal("renewed early")
	}
	w.clock.Advance(time.Second)
	w.sync(t)
	s := w.m.Stats()
	if s.Renewals != 2 || s.Expiries != 0 || !s.Expires.Equal(w.clock.Now().Add(100*time.Second)) {
		t.Fatalf("stats %+v", s)
	}
	select {
	case e := <-w.m.Events():
		t.Fatalf("a renewal with the same address produced event %+v", e)
	default:
	}
	if w.m.Current() != first {
		t.Fatalf("current %+v, want %+v", w.m.Current(), first)
	}
}

func TestExpiryAfterFailedRenewal(t *testing.T) {
	w := newWorld(NATPMP)
	w.start(t, Options{Lifetime: 10 * time.Minute})
	first := w.event(t)
	w.sync(t) // the renewal timer is armed before the clock moves
	if req := w.clients[NATPMP].lastMap(); req.lifetime != 10*time.Minute {
		t.Fatalf("asked for %v, want Options.Lifetime", req.lifetime)
	}
	w.clients[NATPMP].set(func(f *fakeClient) { f.fail = true })
	w.clock.Advance(50 * time.Second) // renewal fails
	w.sync(t)
	if w.m.Current() != first {
		t.Fatal("a failed renewal withdrew the mapping before it expired")
	}
	w.clients[NATPMP].set(func(f *fakeClient) { f.fail = false; f.port = 41000 })
	w.clock.Advance(49 * time.Second)
	w.sync(t)
	if w.m.Current() != first {
		t.Fatal("withdrawn before expiry")
	}
	w.clock.Advance(time.Second) // expiry: withdrawn (version 2), then mapped anew (3)
	w.sync(t)
	// The new attempt asked to keep the old port, so the fake gave it.
	if again := w.m.Current(); again.Version != 3 || again.Protocol != NATPMP || again.External != first.External {
		t.Fatalf("after expiry %+v", again)
	}
	if s := w.m.Stats(); s.Expiries != 1 || s.Failures != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestExpiryWithdraws(t *testing.T) {
	w := newWorld(PCP)
	w.clients[UPnP] = nil
	w.start(t, Options{})
	w.event(t)
	w.sync(t) // the renewal timer is armed before the clock moves
	w.clients[PCP].set(func(f *fakeClient) { f.fail = true })
	w.clock.Advance(50 * time.Second)
	w.clock.Advance(50 * time.Second)
	if e := w.event(t); e.External.IsValid() || e.Protocol != None || e.Version != 2 {
		t.Fatalf("expired mapping: event %+v", e)
	}
	w.sync(t)
	if s := w.m.Stats(); s.Expiries != 1 || !s.Expires.IsZero() {
		t.Fatalf("stats %+v", s)
	}
}

func TestCloseReleasesAndClosesEvents(t *testing.T) {
	w := newWorld(UPnP)
	m := w.start(t, Options{})
	e := w.event(t)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, released := w.clients[UPnP].counts(); released != 1 || w.clients[UPnP].released[0].external != e.External {
		t.Fatalf("released %+v", w.clients[UPnP].released)
	}
	last, ok := <-m.Events()
	if !ok || last.External.IsValid() || last.Version != 2 {
		t.Fatalf("last event %+v %v", last, ok)
	}
	if _, ok := <-m.Events(); ok {
		t.Fatal("events not closed")
	}
	if err := m.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := m.Probe(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Probe after Close: %v", err)
	}
	m.Procure() // must not block
	m.OnNetworkChange(true)
}

func TestInert(t *testing.T) {
	cases := map[string]struct {
		local netip.AddrPort
		opts  Options
		clear bool
	}{
		"loopback":        {local: netip.MustParseAddrPort("127.0.0.1:40000")},
		"mapped loopback": {local: netip.MustParseAddrPort("[::ffff:127.0.0.1]:40000")},
		"ipv6 loopback":   {local: netip.MustParseAddrPort("[::1]:40000")},
		"ipv6 only":       {local: netip.MustParseAddrPort("[2001:db8::1]:40000")},
		"disabled":        {local: testLocal, opts: Options{Disabled: true}},
		"all off":         {local: testLocal, clear: true},
	}
	for name, c := range cases {
		w := newWorld(PCP, NATPMP, UPnP)
		e := w.env()
		if c.clear {
			e.clients = [4]client{}
		}
		m := start(c.local, c.opts, e)
		if !m.Inert() {
			t.Errorf("%s: not inert", name)
		}
		if _, err := m.Probe(context.Background()); !errors.Is(err, ErrInert) {
			t.Errorf("%s: Probe: %v", name, err)
		}
		m.Procure()
		m.OnNetworkChange(true)
		if err := m.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
		if w.routes != 0 {
			t.Errorf("%s: the routing table was read %d times", name, w.routes)
		}
		for _, p := range preference {
			if probes, maps, _ := w.clients[p].counts(); probes+maps != 0 {
				t.Errorf("%s: %v sent %d probes and %d requests", name, p, probes, maps)
			}
		}
	}
	if _, err := New(netip.MustParseAddrPort("0.0.0.0:0"), Options{}); !errors.Is(err, ErrNoPort) {
		t.Fatalf("port 0: %v", err)
	}
	m, err := New(netip.MustParseAddrPort("127.0.0.1:5"), Options{})
	if err != nil || !m.Inert() || m.Close() != nil {
		t.Fatalf("New on loopback: %v", err)
	}
}

func TestNetworkChange(t *testing.T) {
	w := newWorld(PCP)
	w.start(t, Options{})
	first := w.event(t)
	w.m.OnNetworkChange(false)
	w.m.OnNetworkChange(true) // same gateway and address: keep the mapping
	w.sync(t)
	if _, maps, released := w.clients[PCP].counts(); maps != 1 || released != 0 {
		t.Fatalf("same network: %d maps, %d releases", maps, released)
	}
	w.mu.Lock()
	w.gateway = netip.MustParseAddr("192.168.9.1")
	w.mu.Unlock()
	w.clients[PCP].set(func(f *fakeClient) { f.port = 50000 })
	w.m.OnNetworkChange(true)
	w.sync(t)
	// Version 2 withdrew the old mapping, version 3 is the new one.
	if again := w.m.Current(); again.Version != 3 || again.External.Port() != 50000 {
		t.Fatalf("after the gateway changed: %+v", again)
	}
	if _, _, released := w.clients[PCP].counts(); released != 1 || w.clients[PCP].released[0].external != first.External {
		t.Fatal("the old mapping was not deleted")
	}
	if probes, _, _ := w.clients[PCP].counts(); probes != 2 {
		t.Fatalf("PCP probed %d times, want a re-probe on the new gateway", probes)
	}
}

func TestProbeTrust(t *testing.T) {
	w := newWorld(PCP)
	w.start(t, Options{DisableNATPMP: true})
	w.event(t)
	r, err := w.m.Probe(context.Background())
	if err != nil || r != (ProbeResult{PCP: true}) {
		t.Fatalf("probe %+v %v", r, err)
	}
	// PCP was seen within 10 minutes: only the others are asked again.
	if p, _, _ := w.clients[PCP].counts(); p != 1 {
		t.Fatalf("PCP probed %d times", p)
	}
	if p, _, _ := w.clients[UPnP].counts(); p != 2 {
		t.Fatalf("UPnP probed %d times", p)
	}
	// Renewals keep PCP trusted; with the mapping gone it is asked again.
	w.clients[PCP].set(func(f *fakeClient) { f.fail = true })
	w.clock.Advance(11 * time.Minute)
	w.sync(t)
	if _, err := w.m.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := w.clients[PCP].counts(); p < 2 {
		t.Fatalf("PCP probed %d times after 11 minutes", p)
	}
}
