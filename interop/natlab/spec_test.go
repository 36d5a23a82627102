//go:build linux

package natlab

import (
	"errors"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	ok := []Spec{
		{},
		{Public: []string{"relay"}},
		{NATs: []NATSpec{{Name: "a"}, {Name: "b2", Kind: RandomPort}}, Public: []string{"pub"}},
	}
	for _, s := range ok {
		if err := s.validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := []Spec{
		{Public: []string{""}},
		{Public: []string{"Relay"}},
		{Public: []string{"9x"}},
		{Public: []string{"a-b"}},
		{Public: []string{"abcdefghijklmnopq"}}, // 17 characters
		{Public: []string{"a"}, NATs: []NATSpec{{Name: "a"}}},
		{NATs: []NATSpec{{Name: "a", Kind: NATKind(7)}}},
		{NATs: make([]NATSpec, maxNATs+1)},
	}
	for _, s := range bad {
		if err := s.validate(); !errors.Is(err, ErrBadSpec) {
			t.Errorf("%+v: got %v, want ErrBadSpec", s, err)
		}
	}
}

func TestNATRuleset(t *testing.T) {
	eim, err := natRuleset(EndpointIndependent)
	if err != nil {
		t.Fatal(err)
	}
	sym, err := natRuleset(RandomPort)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`oifname "wan" masquerade` + "\n",
		`iifname "lan" oifname "wan" accept`,
		`iifname "wan" oifname "lan" ct state established,related accept`,
		"policy drop",
		// Unsolicited WAN packets to the router itself must not leave a
		// conntrack entry that takes a LAN socket's public port.
		"type filter hook input priority filter; policy accept;\n\t\tiifname \"wan\" drop",
	} {
		if !strings.Contains(eim, want) {
			t.Errorf("endpoint-independent ruleset lacks %q:\n%s", want, eim)
		}
	}
	if !strings.Contains(sym, `oifname "wan" masquerade fully-random`+"\n") {
		t.Errorf("random-port ruleset does not randomise ports:\n%s", sym)
	}
	if _, err := natRuleset(NATKind(-1)); !errors.Is(err, ErrBadSpec) {
		t.Errorf("unknown kind: got %v", err)
	}
}

func TestAddressPlan(t *testing.T) {
	if got := publicHostAddr(0).String(); got != "198.51.100.10" {
		t.Errorf("first public host %s", got)
	}
	if got := routerWANAddr(maxNATs - 1).String(); got != "198.51.100.149" {
		t.Errorf("last router %s", got)
	}
	if got := publicHostAddr(maxPublic - 1); got.As4()[3] >= routerWANAddr(0).As4()[3] {
		t.Errorf("public hosts run into the routers: %s", got)
	}
	if got := privateHostAddr(1).String(); got != "10.2.0.2" {
		t.Errorf("second private host %s", got)
	}
}

func TestDialResultPath(t *testing.T) {
	cases := map[string]string{
		`{"event":"connected","path":"relay","rttMs":3}`:                          "relay",
		"{\"event\":\"failed\"}\n{\"event\":\"connected\",\"path\":\"direct\"}\n": "direct",
		`{"event":"connected"}`:                   "",
		`{"event":"connected","path":"unterm`:     "",
		`{"event":"disconnected","path":"relay"}`: "",
		"": "",
	}
	for in, want := range cases {
		if got := (DialResult{Stderr: in}).Path(); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDialResultPath(f *testing.F) {
	f.Add(`{"event":"connected","path":"relay","rttMs":3}`)
	f.Add(`{"event":"connected","path":"\u0041"}`)
	f.Add(`{"event":"connected","path":`)
	f.Fuzz(func(t *testing.T, stderr string) {
		p := DialResult{Stderr: stderr}.Path()
		if p != "" && !strings.Contains(stderr, `"event":"connected"`) {
			t.Fatalf("path %q without a connected line", p)
		}
	})
}
