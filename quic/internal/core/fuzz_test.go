package core

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// FuzzPeerFrames seals arbitrary frame payloads as authentic packets from
// the server and feeds them to an established client, so frame handling
// (not just AEAD rejection) meets hostile input. The client must never
// panic, and must either carry on or close with a transport error.
func FuzzPeerFrames(f *testing.F) {
	seeds := [][]byte{
		{0x01},                         // PING
		{0x02, 0x05, 0x00, 0x00, 0x05}, // ACK
		{0x08, 0x01, 'h', 'i'},         // STREAM on a server bidi stream
		{0x0f, 0x03, 0x40, 0x10, 0x02, 'h', 'i'},
		{0x04, 0x01, 0x07, 0x00}, // RESET_STREAM
		{0x18, 0x01, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // NEW_CONNECTION_ID
		{0x19, 0x00},                      // RETIRE_CONNECTION_ID
		{0x1a, 1, 2, 3, 4, 5, 6, 7, 8},    // PATH_CHALLENGE
		{0x1d, 0x05, 0x02, 'n', 'o'},      // APPLICATION_CLOSE
		{0x1e},                            // HANDSHAKE_DONE
		{0x31, 0x03, 'a', 'b', 'c'},       // DATAGRAM
		{0x06, 0x00, 0x04, 0x04, 0, 0, 1}, // CRYPTO garbage at app level
		{0x10, 0x80, 0x01, 0x00, 0x00},    // MAX_DATA
		{0x3e, 0x00},                      // PATH_ACK (not negotiated)
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, payload []byte, toServer bool) {
		if len(payload) == 0 || len(payload) > 1100 {
			return
		}
		l := newLink(t, 42)
		l.runUntil(l.established, 5*time.Second)
		from, to := l.server, l.client
		if toServer {
			from, to = l.client, l.server
		}
		pn := from.paths[0].rec.NextPacketNumber(levelApp.space())
		from.paths[0].rec.SkipPacketNumber(levelApp.space())
		p := append([]byte(nil), payload...)
		if len(p) < 4 {
			p = append(p, 0, 0, 0)
		}
		pkt := sealUnchecked(from, &planned{path: from.paths[0], level: levelApp, pn: pn, pnLen: 4, payload: p})
		to.HandleDatagram(l.now, l.sAddr, 0, pkt)
		// Whatever happened, the connection keeps working or closes cleanly.
		for i := 0; i < 50 && l.step(); i++ {
		}
		// A lying peer (say, a NEW_CONNECTION_ID that retires every CID it
		// really owns) can make the connection go silent: idle timeout.
		if err := to.Err(); err != nil && !errors.Is(err, ErrIdleTimeout) {
			var ce *CloseError
			if !asCloseError(err, &ce) {
				t.Fatalf("closed with %T %v, want a *CloseError", err, err)
			}
		}
	})
}

func asCloseError(err error, target **CloseError) bool {
	for err != nil {
		if ce, ok := err.(*CloseError); ok {
			*target = ce
			return true
		}
		u, ok := err.(interface{ Unwrap() []error })
		if ok {
			for _, e := range u.Unwrap() {
				if asCloseError(e, target) {
					return true
				}
			}
			return false
		}
		u1, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u1.Unwrap()
	}
	return false
}

// FuzzServerDatagram feeds an arbitrary datagram to a server connection that
// has just accepted a client Initial: raw, from a spoofed source, as bit
// flips of the client's real Initial, or as the frames of an authentic
// Initial (its keys are public), or followed by a silent client. See
// checkServerDatagram for the invariants: the 3× amplification limit, and
// a clean close or a connection that still completes and carries data.
func FuzzServerDatagram(f *testing.F) {
	for mode := byte(0); mode < numDgramModes; mode++ {
		f.Add([]byte{0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0}, mode)
		f.Add([]byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9}, mode)
		f.Add(make([]byte, 1200), mode)
	}
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, byte(dgramFlippedFirst)) // a flipped bit in the payload
	f.Add([]byte{0x01}, byte(dgramSealedInit))                                                                                                                                                         // PING
	f.Add([]byte{0x06, 0x00, 0x04, 0x16, 0x03, 0x03, 0x00}, byte(dgramSealedInit))                                                                                                                     // CRYPTO at offset 0 disagreeing with the real ClientHello
	f.Add([]byte{0x06, 0x80, 0x01, 0x00, 0x00, 0x02, 0xaa, 0xbb}, byte(dgramSealedInit))                                                                                                               // CRYPTO far ahead
	f.Add([]byte{0x1c, 0x0a, 0x00, 0x00}, byte(dgramSealedInit))                                                                                                                                       // CONNECTION_CLOSE
	f.Add([]byte{0x02, 0x00, 0x00, 0x00, 0x00}, byte(dgramSealedInit))                                                                                                                                 // ACK of packet 0
	f.Add([]byte{0x08, 0x00, 0x01}, byte(dgramSealedInit))                                                                                                                                             // STREAM: not allowed in Initial
	f.Fuzz(func(t *testing.T, d []byte, mode byte) {
		if len(d) > 1500 {
			return
		}
		checkServerDatagram(t, d, mode)
	})
}

// FuzzPeerFramesMultipath is FuzzPeerFrames on a multipath connection with
// n0 NAT traversal and a second validated path, sealing the payload on
// either path, so the multipath, NAT traversal and address discovery
// (OBSERVED_ADDRESS) frames meet a connection that negotiated them.
func FuzzPeerFramesMultipath(f *testing.F) {
	mk := func(fr wire.Frame) []byte {
		b, err := fr.Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	seeds := [][]byte{
		mk(wire.Frame{Type: wire.FramePathAck, PathID: 1, AckRanges: []wire.AckRange{{Smallest: 0, Largest: 2}}}),
		mk(wire.Frame{Type: wire.FramePathAckECN, PathID: 0, AckRanges: []wire.AckRange{{Smallest: 5, Largest: 9}}, ECT0: 3}),
		mk(wire.Frame{Type: wire.FramePathAbandon, PathID: 1, ErrorCode: 0x3e}),
		mk(wire.Frame{Type: wire.FramePathAbandon, PathID: 0, ErrorCode: 0}),
		mk(wire.Frame{Type: wire.FramePathStatusBackup, PathID: 0, Sequence: 1}),
		mk(wire.Frame{Type: wire.FramePathStatusAvailable, PathID: 1, Sequence: 7}),
		mk(wire.Frame{Type: wire.FramePathNewConnectionID, PathID: 2, Sequence: 5, RetirePriorTo: 3, ConnID: []byte{1, 2, 3, 4, 5, 6, 7, 8}}),
		mk(wire.Frame{Type: wire.FramePathNewConnectionID, PathID: 99, Sequence: 0, ConnID: []byte{1, 2, 3, 4, 5, 6, 7, 8}}),
		mk(wire.Frame{Type: wire.FramePathRetireConnectionID, PathID: 1, Sequence: 0}),
		mk(wire.Frame{Type: wire.FrameMaxPathID, PathID: 12}),
		mk(wire.Frame{Type: wire.FramePathsBlocked, PathID: 7}),
		mk(wire.Frame{Type: wire.FramePathCIDsBlocked, PathID: 3, Sequence: 5}),
		{0x02, 0x05, 0x00, 0x00, 0x05}, // plain ACK: path 0
		{0x1b, 1, 2, 3, 4, 5, 6, 7, 8}, // PATH_RESPONSE
		{0x01},
		mk(wire.Frame{Type: wire.FrameAddAddressIPv4, Sequence: 0, Addr: netip.MustParseAddrPort("192.0.2.1:7")}),
		mk(wire.Frame{Type: wire.FrameAddAddressIPv6, Sequence: 3, Addr: netip.MustParseAddrPort("[2001:db8::1]:7")}),
		mk(wire.Frame{Type: wire.FrameReachOutIPv4, Sequence: 1, Addr: netip.MustParseAddrPort("192.0.2.2:8")}),
		mk(wire.Frame{Type: wire.FrameReachOutIPv6, Sequence: 2, Addr: netip.MustParseAddrPort("[2001:db8::2]:8")}),
		mk(wire.Frame{Type: wire.FrameRemoveAddress, Sequence: 0}),
		mk(wire.Frame{Type: wire.FrameObservedAddressIPv4, Sequence: 0, Addr: netip.MustParseAddrPort("198.51.100.9:4000")}),
		mk(wire.Frame{Type: wire.FrameObservedAddressIPv6, Sequence: 9, Addr: netip.MustParseAddrPort("[2001:db8::9]:4001")}),
		mk(wire.Frame{Type: wire.FrameObservedAddressIPv4, Sequence: 1 << 40, Addr: netip.MustParseAddrPort("10.0.0.1:1000")}),
	}
	for _, s := range seeds {
		f.Add(s, false, uint8(0))
		f.Add(s, true, uint8(1))
	}
	f.Fuzz(func(t *testing.T, payload []byte, toServer bool, onPath uint8) {
		if len(payload) == 0 || len(payload) > 1000 {
			return
		}
		l := newLinkWith(t, 44, func(c, s *Config) {
			c.Multipath, s.Multipath = true, true
			c.NatTraversal, s.NatTraversal = true, true
			c.AddressDiscovery, s.AddressDiscovery = AddressDiscoveryBoth, AddressDiscoveryBoth
		})
		l.runUntil(l.established, 5*time.Second)
		openSecondPath(t, l)
		from, to := l.server, l.client
		if toServer {
			from, to = l.client, l.server
		}
		p := from.paths[int(onPath)%len(from.paths)]
		pn := p.rec.NextPacketNumber(levelApp.space())
		p.rec.SkipPacketNumber(levelApp.space())
		pl := append([]byte(nil), payload...)
		if len(pl) < 4 {
			pl = append(pl, 0, 0, 0)
		}
		pkt := sealUnchecked(from, &planned{path: p, level: levelApp, pn: pn, pnLen: 4, payload: pl})
		to.HandleDatagram(l.now, l.sAddr, 0, pkt)
		for i := 0; i < 100 && l.step(); i++ {
		}
		if err := to.Err(); err != nil && !errors.Is(err, ErrIdleTimeout) && !errors.Is(err, ErrNoViablePath) {
			var ce *CloseError
			if !asCloseError(err, &ce) {
				t.Fatalf("closed with %T %v, want a *CloseError", err, err)
			}
		}
	})
}

// TestServerRefusesScatteredCryptoInitial is the network form of the
// review's CRYPTO attack: one client Initial packed with one-byte CRYPTO
// frames at scattered offsets. The server must close with
// CRYPTO_BUFFER_EXCEEDED instead of buffering and rescanning them.
func TestServerRefusesScatteredCryptoInitial(t *testing.T) {
	l := newLink(t, 44)
	l.flush()
	l.step() // the server is created from the client's Initial
	if l.server == nil {
		t.Fatal("no server")
	}
	var payload []byte
	for i := 0; len(payload) < 1100; i++ {
		f := wire.Frame{Type: wire.FrameCrypto, Offset: uint64(4000 + 2*i), Data: []byte{1}}
		payload, _ = f.Append(payload)
	}
	pn := l.client.paths[0].rec.NextPacketNumber(levelInitial.space())
	l.client.paths[0].rec.SkipPacketNumber(levelInitial.space())
	pkt := sealUnchecked(l.client, &planned{path: l.client.paths[0], level: levelInitial, pn: pn, pnLen: 4, payload: payload})
	l.server.HandleDatagram(l.now, l.cAddr, 0, pkt)
	var ce *CloseError
	if err := l.server.Err(); !asCloseError(err, &ce) || ce.Remote || ce.Code != uint64(wire.CryptoBufferExceeded) {
		t.Fatalf("server state after the scattered Initial: %v", err)
	}
}
