package admission

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

var (
	t0      = time.Unix(1_700_000_000, 0)
	client  = core.UDPAddr(netip.MustParseAddrPort("192.0.2.1:4433"))
	client2 = core.UDPAddr(netip.MustParseAddrPort("192.0.2.1:5555")) // same IP, other port
	other   = core.UDPAddr(netip.MustParseAddrPort("198.51.100.2:4433"))
	odcid   = []byte{1, 2, 3, 4, 5, 6, 7, 8}
	rscid   = []byte{9, 9, 9, 9, 9, 9, 9, 9}
)

func newGate(t *testing.T, cfg Config) *Gate {
	t.Helper()
	g, err := New(cfg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGateCaps(t *testing.T) {
	g := newGate(t, Config{MaxPending: 10, MaxPendingPerSource: 3, RetryAbove: 5})
	for i := range 3 {
		if a := g.Admit(t0, client, odcid, nil); a.Verdict != Accept {
			t.Fatalf("handshake %d: %v", i, a.Verdict)
		}
		g.Started(client)
	}
	// The source is at its cap, whatever the port.
	if a := g.Admit(t0, client2, odcid, nil); a.Verdict != Drop {
		t.Fatalf("fourth from one IP: %v", a.Verdict)
	}
	g.Finished(client)
	if a := g.Admit(t0, client2, odcid, nil); a.Verdict != Accept {
		t.Fatalf("after one finished: %v", a.Verdict)
	}
	// Past RetryAbove, unvalidated clients get a Retry.
	g.Started(client2)
	for range 2 {
		g.Started(other)
	}
	if a := g.Admit(t0, core.UDPAddr(netip.MustParseAddrPort("203.0.113.9:1")), odcid, nil); a.Verdict != Retry {
		t.Fatalf("above RetryAbove: %v", a.Verdict)
	}
	for range 5 {
		g.Started(core.UDPAddr(netip.MustParseAddrPort("203.0.113.7:1")))
	}
	if g.Pending() != 10 {
		t.Fatalf("pending %d", g.Pending())
	}
	// At MaxPending even a validated client waits.
	tok, _ := g.RetryToken(t0, other, odcid, rscid)
	if a := g.Admit(t0, other, rscid, tok); a.Verdict != Drop {
		t.Fatalf("at MaxPending: %v", a.Verdict)
	}
}

func TestGateRetryToken(t *testing.T) {
	g := newGate(t, Config{RetryAbove: -1})
	if a := g.Admit(t0, client, odcid, nil); a.Verdict != Retry {
		t.Fatalf("RetryAbove -1 without token: %v", a.Verdict)
	}
	tok, err := g.RetryToken(t0, client, odcid, rscid)
	if err != nil {
		t.Fatal(err)
	}
	a := g.Admit(t0.Add(time.Second), client, rscid, tok)
	if a.Verdict != Accept || !bytes.Equal(a.OrigDCID, odcid) {
		t.Fatalf("valid token: %v %x", a.Verdict, a.OrigDCID)
	}
	tampered := append([]byte(nil), tok...)
	tampered[len(tampered)-1] ^= 1
	other2 := newGate(t, Config{RetryAbove: -1})
	for name, tc := range map[string]struct {
		g    *Gate
		at   time.Time
		from core.Addr
		dcid []byte
		tok  []byte
	}{
		"other port": {g, t0, client2, rscid, tok},
		"other IP":   {g, t0, other, rscid, tok},
		"other DCID": {g, t0, client, odcid, tok},
		"expired":    {g, t0.Add(DefaultTokenLifetime + time.Second), client, rscid, tok},
		"tampered":   {g, t0, client, rscid, tampered},
		"truncated":  {g, t0, client, rscid, tok[:20]},
		"other key":  {other2, t0, client, rscid, tok},
		"garbage":    {g, t0, client, rscid, bytes.Repeat([]byte{7}, 60)},
	} {
		if a := tc.g.Admit(tc.at, tc.from, tc.dcid, tc.tok); a.Verdict != Retry || a.OrigDCID != nil {
			t.Errorf("%s: %v %x", name, a.Verdict, a.OrigDCID)
		}
	}
	// A relay path is a source of its own.
	relay := core.Addr{Relay: core.RelayAddr{URL: "https://relay.example/", Peer: [32]byte{1}}}
	rt, _ := g.RetryToken(t0, relay, odcid, rscid)
	if a := g.Admit(t0, relay, rscid, rt); a.Verdict != Accept {
		t.Fatalf("relay token: %v", a.Verdict)
	}
	relay.Relay.Peer[0] = 2
	if a := g.Admit(t0, relay, rscid, rt); a.Verdict != Retry {
		t.Fatalf("relay token from another peer: %v", a.Verdict)
	}
}

func FuzzAdmitToken(f *testing.F) {
	g, err := New(Config{RetryAbove: -1}, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	tok, _ := g.RetryToken(t0, client, odcid, rscid)
	f.Add(tok, rscid)
	f.Add([]byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 40), odcid)
	f.Fuzz(func(t *testing.T, tok, dcid []byte) {
		a := g.Admit(t0, client, dcid, tok)
		if a.Verdict == Accept && !bytes.Equal(dcid, rscid) {
			t.Fatalf("token accepted for DCID %x", dcid)
		}
	})
}
