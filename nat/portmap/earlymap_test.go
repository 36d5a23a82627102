package portmap

import "testing"

// The mapping goes out as soon as the best protocol that answers is
// certain, while a slower probe (UPnP's search) is still running.
func TestMapsBeforeSlowerProbesFinish(t *testing.T) {
	cases := []struct {
		name      string
		available []Protocol
		held      Protocol // its probe answers only after the event
		want      Protocol
	}{
		{"PCP answers, UPnP still searching", []Protocol{PCP, UPnP}, UPnP, PCP},
		{"PCP silent, NAT-PMP answers, UPnP still searching", []Protocol{NATPMP, UPnP}, UPnP, NATPMP},
		{"PCP answers, NAT-PMP still waiting", []Protocol{PCP, NATPMP}, NATPMP, PCP},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(c.available...)
			gate := make(chan struct{})
			w.clients[c.held].probeGate = gate
			w.start(t, Options{})
			if e := w.event(t); e.Protocol != c.want {
				t.Fatalf("event %+v, want a %v mapping", e, c.want)
			}
			close(gate)
			w.sync(t)
			if probes, maps, _ := w.clients[c.held].counts(); probes != 1 || maps != 0 {
				t.Fatalf("%v: %d probes %d maps, want its probe and no map", c.held, probes, maps)
			}
			if s := w.m.Stats(); s.Probes != 1 || s.Attempts != 1 || s.Failures != 0 {
				t.Fatalf("stats %+v", s)
			}
			// The held answer is recorded once it arrives.
			if !w.trusted(t, c.held) {
				t.Fatalf("%v's late answer was not recorded", c.held)
			}
		})
	}
}

// A more preferred protocol still being probed holds the choice: NAT-PMP
// answering first does not win over PCP answering later.
func TestPreferenceWaitsForSlowerBetterProtocol(t *testing.T) {
	w := newWorld(PCP, NATPMP, UPnP)
	gate := make(chan struct{})
	w.clients[PCP].probeGate = gate
	w.start(t, Options{})
	w.waitProbed(t, NATPMP, UPnP)
	close(gate)
	if e := w.event(t); e.Protocol != PCP {
		t.Fatalf("event %+v, want PCP", e)
	}
	w.sync(t)
	for _, p := range []Protocol{NATPMP, UPnP} {
		if _, maps, _ := w.clients[p].counts(); maps != 0 {
			t.Fatalf("%v asked to map %d times", p, maps)
		}
	}
}

// An early choice that refuses to map falls back to the next protocol that
// answered, once the round is complete.
func TestEarlyChoiceRefusedFallsBack(t *testing.T) {
	w := newWorld(PCP, UPnP)
	w.clients[PCP].fail = true
	w.start(t, Options{})
	if e := w.event(t); e.Protocol != UPnP {
		t.Fatalf("event %+v, want UPnP after PCP refused", e)
	}
	w.sync(t)
	if w.trusted(t, PCP) {
		t.Fatal("PCP refused to map but is still trusted available")
	}
	if _, maps, _ := w.clients[PCP].counts(); maps != 1 {
		t.Fatalf("PCP asked %d times, want once", maps)
	}
}
