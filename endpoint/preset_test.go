package endpoint

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/alkdev/irohspoke/identity"
	"github.com/alkdev/irohspoke/lookup"
)

// TestN0Values: iroh 1.0.2's production and staging values, exactly.
func TestN0Values(t *testing.T) {
	t.Setenv(StagingEnv, "")
	p := N0()
	want := []RelayNode{
		{"https://use1-1.relay.n0.iroh.link./", 7842},
		{"https://usw1-1.relay.n0.iroh.link./", 7842},
		{"https://euc1-1.relay.n0.iroh.link./", 7842},
		{"https://aps1-1.relay.n0.iroh.link./", 7842},
	}
	if p.Name != "n0" || !slices.Equal(p.Relays, want) || p.PkarrURL != "https://dns.iroh.link/pkarr" ||
		p.DNSOrigin != "dns.iroh.link." || !p.QAD || !p.Publish || !p.DualStack || !p.PortMapping {
		t.Fatalf("N0 = %+v", p)
	}
	s := N0Staging()
	wantStaging := []RelayNode{
		{"https://use1-1.staging-relay.n0.iroh.link./", 7842},
		{"https://euc1-1.staging-relay.n0.iroh.link./", 7842},
	}
	if s.Name != "n0-staging" || !slices.Equal(s.Relays, wantStaging) || s.PkarrURL != "https://staging-dns.iroh.link/pkarr" ||
		s.DNSOrigin != "staging-dns.iroh.link." || !s.QAD || !s.Publish || !s.DualStack || !s.PortMapping {
		t.Fatalf("N0Staging = %+v", s)
	}
	// The URLs are already in relay-path form.
	for _, n := range append(p.Relays, s.Relays...) {
		if got, err := identity.NormalizeRelayURL(n.URL); err != nil || got != n.URL {
			t.Fatalf("%s normalises to %s (%v)", n.URL, got, err)
		}
	}
	if m := Minimal(); m.Name != "minimal" || len(m.Relays) != 0 || m.QAD || m.Publish || m.DNSOrigin != "" || m.DualStack || m.PortMapping {
		t.Fatalf("Minimal = %+v", m)
	}
}

// TestStagingSwitch: iroh's rule, any non-empty value means staging.
func TestStagingSwitch(t *testing.T) {
	for _, c := range []struct {
		value string
		set   bool
		want  string
	}{
		{"1", true, "n0-staging"},
		{"0", true, "n0-staging"},
		{"false", true, "n0-staging"},
		{"", true, "n0"},
		{"\xff", true, "n0"}, // not valid text: iroh's env::var fails
		{"", false, "n0"},
	} {
		t.Setenv(StagingEnv, c.value)
		if !c.set {
			if err := unsetenv(StagingEnv); err != nil {
				t.Fatal(err)
			}
		}
		if got := N0().Name; got != c.want {
			t.Errorf("%s=%q (set %v): %s, want %s", StagingEnv, c.value, c.set, got, c.want)
		}
		if p, err := PresetByName("n0"); err != nil || p.Name != c.want {
			t.Errorf("PresetByName(n0) = %s, %v", p.Name, err)
		}
	}
	for name, want := range map[string]string{"n0-staging": "n0-staging", "minimal": "minimal"} {
		if p, err := PresetByName(name); err != nil || p.Name != want {
			t.Errorf("PresetByName(%s) = %+v, %v", name, p, err)
		}
	}
	if _, err := PresetByName("N0 "); err == nil {
		t.Error("unknown preset accepted")
	}
}

func unsetenv(k string) error { return os.Unsetenv(k) }

// TestSetupMerge: what Options take from the preset and what they
// override.
func TestSetupMerge(t *testing.T) {
	key, _ := identity.GenerateSecretKey(nil)
	n0 := N0Staging()

	s, err := newSetup(&Options{SecretKey: key})
	if err != nil || s.bind != DefaultBindAddr || s.dualStack || len(s.relays) != 0 || s.qad || s.resolver != nil || s.publisher != nil {
		t.Fatalf("zero Options: %+v %v", s, err)
	}

	s, err = newSetup(&Options{SecretKey: key, Preset: n0})
	if err != nil || s.bind != DualStackBindAddr || !s.dualStack || len(s.relays) != 2 || s.pinned || !s.qad {
		t.Fatalf("N0: %+v %v", s, err)
	}
	if dns, ok := s.resolver.(*lookup.DNSResolver); !ok || dns.Origin != "staging-dns.iroh.link." {
		t.Fatalf("N0 resolver %#v", s.resolver)
	}
	if pub, ok := s.publisher.(*lookup.PkarrPublisher); !ok || pub.BaseURL != "https://staging-dns.iroh.link/pkarr" || pub.Key != key {
		t.Fatalf("N0 publisher %#v", s.publisher)
	}

	// Overrides: pinned relay (its QAD port from the preset), own lookup
	// and publisher, own bind address.
	own := &lookup.PkarrResolver{BaseURL: "http://127.0.0.1:1/pkarr"}
	ownPub := &lookup.PkarrPublisher{BaseURL: "http://127.0.0.1:1/pkarr"}
	s, err = newSetup(&Options{SecretKey: key, Preset: n0, RelayURL: "https://euc1-1.staging-relay.n0.iroh.link.",
		Lookup: own, Publisher: ownPub, BindAddr: "127.0.0.1:0"})
	if err != nil || !s.pinned || len(s.relays) != 1 || s.relays[0] != n0.Relays[1] || s.resolver != own || s.publisher != ownPub ||
		s.bind != "127.0.0.1:0" || s.dualStack {
		t.Fatalf("overrides: %+v %v", s, err)
	}
	s, _ = newSetup(&Options{SecretKey: key, RelayURL: "http://127.0.0.1:9", RelayQAD: true})
	if s.relays[0].QADPort != 7842 || !s.qad {
		t.Fatalf("pinned unknown relay: %+v", s.relays)
	}
	s, _ = newSetup(&Options{SecretKey: key, RelayURL: "http://127.0.0.1:9", RelayQADPort: 9999})
	if s.relays[0].QADPort != 9999 || s.qad {
		t.Fatalf("pinned relay with port: %+v", s)
	}
	// Parts switched off by editing the preset.
	p := N0()
	p.Publish, p.DNSOrigin, p.QAD = false, "", false
	if s, _ := newSetup(&Options{SecretKey: key, Preset: p}); s.publisher != nil || s.resolver != nil || s.qad {
		t.Fatalf("switched off: %+v", s)
	}
	p.DNSOrigin = "bad origin"
	if _, err := newSetup(&Options{SecretKey: key, Preset: p}); !errors.Is(err, lookup.ErrBadOrigin) {
		t.Fatalf("bad origin: %v", err)
	}

	bad := Preset{Relays: []RelayNode{{URL: "ftp://x"}}}
	if _, err := newSetup(&Options{SecretKey: key, Preset: bad}); err == nil {
		t.Fatal("bad relay URL in preset accepted")
	}
	if _, err := newSetup(&Options{SecretKey: key, RelayQAD: true}); !errors.Is(err, ErrQADNoRelay) {
		t.Fatalf("QAD without relay: %v", err)
	}
	if _, err := newSetup(&Options{SecretKey: key, BindAddr: "[::]"}); !errors.Is(err, ErrBadBindAddr) {
		t.Fatalf("bad bind: %v", err)
	}
}

// TestDualStackFallback: a dual-stack bind that the kernel refuses falls
// back to IPv4 (and says why); an explicit bind address does not.
func TestDualStackFallback(t *testing.T) {
	var tried []string
	noV6 := func(network string, a *net.UDPAddr) (*net.UDPConn, error) {
		tried = append(tried, network+" "+a.String())
		if a.IP.To4() == nil {
			return nil, syscall.EAFNOSUPPORT
		}
		return net.ListenUDP(network, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	}
	udp, err := listenUDP(&setup{bind: DualStackBindAddr, dualStack: true}, testLogger(), noV6)
	if err != nil {
		t.Fatal(err)
	}
	udp.Close()
	if !slices.Equal(tried, []string{"udp [::]:0", "udp4 0.0.0.0:0"}) {
		t.Fatalf("tried %v", tried)
	}
	tried = nil
	if _, err := listenUDP(&setup{bind: "[::]:0"}, testLogger(), noV6); !errors.Is(err, syscall.EAFNOSUPPORT) || len(tried) != 1 {
		t.Fatalf("explicit [::]: %v after %v", err, tried)
	}
	// The real thing: with IPv6 in the kernel the socket is dual-stack.
	udp, err = listenUDP(&setup{bind: DualStackBindAddr, dualStack: true}, testLogger(), net.ListenUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	if ap := udp.LocalAddr().(*net.UDPAddr).AddrPort(); ap.Addr() != netip.IPv6Unspecified() && ap.Addr() != netip.IPv4Unspecified() {
		t.Fatalf("dual-stack socket on %v", ap)
	}
}
