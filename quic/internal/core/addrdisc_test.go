package core

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

func newQADLink(t *testing.T, seed uint64, client, server AddressDiscoveryRole, mp bool) *link {
	t.Helper()
	return newLinkWith(t, seed, func(c, s *Config) {
		c.AddressDiscovery, s.AddressDiscovery = client, server
		c.Multipath, s.Multipath = mp, mp
	})
}

func observedEvents(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == EventObservedAddress {
			out = append(out, e)
		}
	}
	return out
}

func TestAddressDiscoveryOffByDefault(t *testing.T) {
	l := newLink(t, 300)
	if l.client.params.local.HasAddressDiscovery {
		t.Fatal("client advertises address discovery without being asked to")
	}
	l.runUntil(l.established, 5*time.Second)
	transfer(t, l, 4<<10, 5*time.Second)
	if l.server.params.local.HasAddressDiscovery || l.client.AddressDiscovery() {
		t.Fatal("address discovery negotiated by default")
	}
	if l.frames[wire.FrameObservedAddressIPv4]+l.frames[wire.FrameObservedAddressIPv6] != 0 {
		t.Fatal("OBSERVED_ADDRESS sent without negotiation")
	}
}

func TestAddressDiscoveryRoles(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		client, server          AddressDiscoveryRole
		clientLearns, srvLearns bool
	}{
		{"qad", AddressDiscoveryReceive, AddressDiscoverySend, true, false},
		{"both", AddressDiscoveryBoth, AddressDiscoveryBoth, true, true},
		{"server off", AddressDiscoveryReceive, AddressDiscoveryOff, false, false},
		{"nobody receives", AddressDiscoverySend, AddressDiscoverySend, false, false},
		{"client sends", AddressDiscoverySend, AddressDiscoveryReceive, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newQADLink(t, 301, tc.client, tc.server, false)
			l.runUntil(l.established, 5*time.Second)
			transfer(t, l, 4<<10, 5*time.Second)
			l.drainEvents()
			ce, se := observedEvents(l.clientEvents), observedEvents(l.serverEvents)
			if (len(ce) > 0) != tc.clientLearns || (len(se) > 0) != tc.srvLearns {
				t.Fatalf("client events %v, server events %v", ce, se)
			}
			if tc.clientLearns && (ce[0].Addr != l.cAddr.UDP || ce[0].Path != 0) {
				t.Fatalf("client learned %v on path %d, want %v", ce[0].Addr, ce[0].Path, l.cAddr.UDP)
			}
			if tc.srvLearns && se[0].Addr != l.sAddr.UDP {
				t.Fatalf("server learned %v, want %v", se[0].Addr, l.sAddr.UDP)
			}
			if got, ok := l.client.ObservedAddress(0); ok != tc.clientLearns || (ok && got != l.cAddr.UDP) {
				t.Fatalf("ObservedAddress = %v, %v", got, ok)
			}
			n := l.frames[wire.FrameObservedAddressIPv4]
			if want := tc.clientLearns || tc.srvLearns; (n > 0) != want {
				t.Fatalf("%d OBSERVED_ADDRESS frames sent", n)
			}
		})
	}
}

func TestAddressDiscoveryMappedAddressReportedAsIPv4(t *testing.T) {
	l := newQADLink(t, 302, AddressDiscoveryReceive, AddressDiscoverySend, false)
	plain := l.cAddr.UDP
	l.cAddr = UDPAddr(netip.AddrPortFrom(netip.AddrFrom16(plain.Addr().As16()), plain.Port()))
	l.runUntil(func() bool {
		l.drainEvents()
		return len(observedEvents(l.clientEvents)) > 0
	}, 5*time.Second)
	if got := observedEvents(l.clientEvents)[0].Addr; got != plain {
		t.Fatalf("reported %v, want %v", got, plain)
	}
}

func TestAddressDiscoveryLostReportIsResent(t *testing.T) {
	l := newQADLink(t, 303, AddressDiscoveryReceive, AddressDiscoverySend, false)
	dropped := 0
	// Lose the server's first flights after its handshake: they carry
	// HANDSHAKE_DONE and the first report.
	l.drop = func(toServer bool, d []byte) bool {
		if toServer || l.server == nil || !l.server.HandshakeComplete() || dropped >= 3 {
			return false
		}
		dropped++
		return true
	}
	l.runUntil(func() bool {
		l.drainEvents()
		return len(observedEvents(l.clientEvents)) > 0
	}, 10*time.Second)
	if dropped != 3 {
		t.Fatalf("dropped %d datagrams", dropped)
	}
	if n := l.frames[wire.FrameObservedAddressIPv4]; n < 2 {
		t.Fatalf("%d OBSERVED_ADDRESS frames sent; the lost one was not resent", n)
	}
	if got := observedEvents(l.clientEvents)[0].Addr; got != l.cAddr.UDP {
		t.Fatalf("reported %v", got)
	}
	if l.server.qad.nextSeq < 2 {
		t.Fatalf("resent report reused sequence number (next %d)", l.server.qad.nextSeq)
	}
}

func TestAddressDiscoveryUnsolicitedReport(t *testing.T) {
	l := newQADLink(t, 304, AddressDiscoveryReceive, AddressDiscoverySend, false)
	l.runUntil(l.established, 5*time.Second)
	f := &wire.Frame{Type: wire.FrameObservedAddressIPv4, Sequence: 7, Addr: l.sAddr.UDP}
	// The server only sends; the client does not send.
	err := l.server.handleObservedAddress(l.server.paths[0], l.server.paths[0].addr, f)
	var te *wire.TransportError
	if !errors.As(err, &te) || te.Code != wire.ProtocolViolation {
		t.Fatalf("unsolicited report: %v", err)
	}
	off := newLink(t, 305)
	off.runUntil(off.established, 5*time.Second)
	if err := off.client.handleObservedAddress(off.client.paths[0], off.client.paths[0].addr, f); !errors.As(err, &te) {
		t.Fatalf("report without the extension: %v", err)
	}
}

func TestAddressDiscoverySequenceOrdering(t *testing.T) {
	l := newQADLink(t, 306, AddressDiscoveryReceive, AddressDiscoverySend, false)
	l.runUntil(func() bool {
		l.drainEvents()
		return len(observedEvents(l.clientEvents)) > 0
	}, 5*time.Second)
	c, p := l.client, l.client.paths[0]
	other := netip.MustParseAddrPort("198.51.100.7:4242")
	report := func(seq uint64, ap netip.AddrPort) int {
		t.Helper()
		if err := c.handleObservedAddress(p, p.addr, &wire.Frame{Type: wire.FrameObservedAddressIPv4, Sequence: seq, Addr: ap}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			e, ok := c.PollEvent()
			if !ok {
				return n
			}
			if e.Kind == EventObservedAddress {
				n++
			}
		}
	}
	if n := report(10, l.cAddr.UDP); n != 0 {
		t.Fatal("same address reported again")
	}
	if n := report(11, other); n != 1 {
		t.Fatal("changed address not reported")
	}
	if n := report(5, l.cAddr.UDP); n != 0 {
		t.Fatal("stale sequence number accepted")
	}
	if got, _ := c.ObservedAddress(0); got != other {
		t.Fatalf("ObservedAddress = %v", got)
	}
}

func TestAddressDiscoveryNewPath(t *testing.T) {
	l := newQADLink(t, 307, AddressDiscoveryReceive, AddressDiscoverySend, true)
	l.runUntil(l.established, 5*time.Second)
	id := openSecondPath(t, l)
	l.runUntil(func() bool {
		l.drainEvents()
		_, ok := hasEvent(observedEvents(l.clientEvents), EventObservedAddress, id)
		return ok
	}, 5*time.Second)
	e, _ := hasEvent(observedEvents(l.clientEvents), EventObservedAddress, id)
	if e.Addr != l.cAddr2.UDP {
		t.Fatalf("path %d reported %v, want %v", id, e.Addr, l.cAddr2.UDP)
	}
	if got, ok := l.client.ObservedAddress(0); !ok || got != l.cAddr.UDP {
		t.Fatalf("path 0 report %v %v", got, ok)
	}
}

func TestNoIncomingStreams(t *testing.T) {
	l := newLinkWith(t, 308, func(c, s *Config) { s.NoIncomingStreams = true })
	l.runUntil(l.established, 5*time.Second)
	if l.server.params.local.InitialMaxStreamsBidi != 0 || l.server.params.local.InitialMaxStreamsUni != 0 {
		t.Fatal("stream limits advertised")
	}
	if _, err := l.client.Streams().Open(true); !errors.Is(err, ErrStreamLimitReached) {
		t.Fatalf("client opened a stream: %v", err)
	}
	err := l.server.handleFrame(l.now, appPacket(l.server.paths[0], nil, 0), &wire.Frame{Type: wire.FrameStream, StreamID: 0, Data: []byte("x")})
	var te *wire.TransportError
	if !errors.As(err, &te) || te.Code != wire.StreamLimitError {
		t.Fatalf("peer stream accepted: %v", err)
	}
	// Our own streams are still ours to open (none here), and
	// STREAMS_BLOCKED does not raise the limit.
	if err := l.server.handleFrame(l.now, appPacket(l.server.paths[0], nil, 0), &wire.Frame{Type: wire.FrameStreamsBlockedBidi, Limit: 0}); err != nil {
		t.Fatal(err)
	}
}
