package core

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

func newMPLink(t *testing.T, seed uint64, clientMP, serverMP bool) *link {
	t.Helper()
	l := newLinkWith(t, seed, func(c, s *Config) {
		c.Multipath, s.Multipath = clientMP, serverMP
	})
	l.runUntil(l.established, 5*time.Second)
	return l
}

func hasEvent(evs []Event, kind EventKind, id PathID) (Event, bool) {
	for _, e := range evs {
		if e.Kind == kind && e.Path == id {
			return e, true
		}
	}
	return Event{}, false
}

// openSecondPath opens path 1 from the client's second address to the
// server's second address and waits until both ends validated it.
func openSecondPath(t *testing.T, l *link) PathID {
	t.Helper()
	// Let the peers exchange their path CIDs first.
	l.runUntil(func() bool {
		s := l.client.mp.set(1)
		return s != nil && s.remote.usable()
	}, 5*time.Second)
	id, err := l.client.OpenPath(l.now, l.sAddr2)
	if err != nil {
		t.Fatal(err)
	}
	if id != 1 {
		t.Fatalf("first opened path has ID %d", id)
	}
	l.runUntil(func() bool {
		l.drainEvents()
		_, c := hasEvent(l.clientEvents, EventPathValidated, id)
		_, s := hasEvent(l.serverEvents, EventPathValidated, id)
		return c && s
	}, 10*time.Second)
	if _, ok := hasEvent(l.serverEvents, EventPathOpened, id); !ok {
		t.Fatal("server saw no EventPathOpened")
	}
	return id
}

func TestMultipathNegotiation(t *testing.T) {
	for _, tc := range []struct {
		client, server, want bool
	}{{true, true, true}, {true, false, false}, {false, true, false}, {false, false, false}} {
		l := newMPLink(t, 100, tc.client, tc.server)
		transfer(t, l, 64<<10, 10*time.Second)
		if l.client.Multipath() != tc.want || l.server.Multipath() != tc.want {
			t.Fatalf("client %v server %v: negotiated %v/%v", tc.client, tc.server, l.client.Multipath(), l.server.Multipath())
		}
		ack, pathAck := l.frames[wire.FrameAck]+l.frames[wire.FrameAckECN], l.frames[wire.FramePathAck]+l.frames[wire.FramePathAckECN]
		if tc.want && (ack != 0 || pathAck == 0 || l.frames[wire.FrameNewConnectionID] != 0 || l.frames[wire.FramePathNewConnectionID] == 0) {
			t.Fatalf("multipath: 1-RTT ACK %d PATH_ACK %d NEW_CID %d PATH_NEW_CID %d", ack, pathAck, l.frames[wire.FrameNewConnectionID], l.frames[wire.FramePathNewConnectionID])
		}
		if !tc.want && (pathAck != 0 || ack == 0 || l.frames[wire.FramePathNewConnectionID] != 0) {
			t.Fatalf("single path: ACK %d PATH_ACK %d PATH_NEW_CID %d", ack, pathAck, l.frames[wire.FramePathNewConnectionID])
		}
		if !tc.want {
			if _, err := l.client.OpenPath(l.now, l.sAddr2); !errors.Is(err, ErrMultipathNotNegotiated) {
				t.Fatalf("OpenPath without multipath: %v", err)
			}
		}
	}
}

func TestMultipathCIDsForEveryPath(t *testing.T) {
	l := newMPLink(t, 101, true, true)
	l.runUntil(func() bool { s := l.client.mp.set(InitialMaxPathID); return s != nil && len(s.remote.ids) == 5 }, 5*time.Second)
	for id := uint64(0); id <= InitialMaxPathID; id++ {
		if n := len(l.server.mp.set(id).local.active); n != 5 {
			t.Fatalf("server issued %d CIDs for path %d", n, id)
		}
	}
	if n := len(l.server.LocalCIDs()); n != 40 {
		t.Fatalf("server has %d local CIDs, want 8 paths × 5", n)
	}
	if _, err := l.server.OpenPath(l.now, l.cAddr2); !errors.Is(err, ErrServerCannotOpenPath) {
		t.Fatalf("server OpenPath: %v", err)
	}
}

func TestMultipathMoveDataAndAbandonPath0(t *testing.T) {
	l := newMPLink(t, 102, true, true)
	id := openSecondPath(t, l)
	if err := l.client.SetPathStatus(id, true); err != nil {
		t.Fatal(err)
	}
	if err := l.client.SetPathStatus(0, false); err != nil {
		t.Fatal(err)
	}
	l.runUntil(func() bool {
		l.drainEvents()
		e, ok := hasEvent(l.serverEvents, EventPathStatus, 0)
		return ok && e.Status == PathBackup
	}, 5*time.Second)
	before0, before1 := l.bytesVia[l.cAddr], l.bytesVia[l.cAddr2]
	transfer(t, l, 1<<20, 30*time.Second)
	via0, via1 := l.bytesVia[l.cAddr]-before0, l.bytesVia[l.cAddr2]-before1
	if via1 < 1<<20 || via0 > 64<<10 {
		t.Fatalf("client data went %d bytes via path 0 and %d via path 1", via0, via1)
	}
	if l.client.RemoteAddr() != l.sAddr2 {
		t.Fatalf("client RemoteAddr %v", l.client.RemoteAddr())
	}

	if err := l.client.ClosePath(l.now, 0, ApplicationAbandonPath); err != nil {
		t.Fatal(err)
	}
	if err := l.client.ClosePath(l.now, id, ApplicationAbandonPath); !errors.Is(err, ErrLastPath) {
		t.Fatalf("closing the last path: %v", err)
	}
	transfer(t, l, 256<<10, 30*time.Second)
	l.runUntil(func() bool { return len(l.client.paths) == 1 && len(l.server.paths) == 1 }, 10*time.Second)
	l.drainEvents()
	if e, ok := hasEvent(l.serverEvents, EventPathAbandoned, 0); !ok || !e.Remote || e.Code != ApplicationAbandonPath {
		t.Fatalf("server abandon event %+v %v", e, ok)
	}
	// The peer's PATH_ABANDON raised each side's limit by one (MAX_PATH_ID).
	if l.client.mp.localMax != InitialMaxPathID+1 || l.server.mp.localMax != InitialMaxPathID+1 {
		t.Fatalf("local max path IDs %d/%d", l.client.mp.localMax, l.server.mp.localMax)
	}
	l.runUntil(func() bool { return l.client.mp.remoteMax == InitialMaxPathID+1 }, 5*time.Second)
	if p := l.client.Paths(); len(p) != 1 || p[0].ID != id || !p[0].Validated || p[0].Addr != l.sAddr2 {
		t.Fatalf("client paths %+v", p)
	}
	transfer(t, l, 128<<10, 30*time.Second)
}

func TestMultipathLossOnOnePath(t *testing.T) {
	l := newMPLink(t, 103, true, true)
	id := openSecondPath(t, l)
	l.client.SetPathStatus(0, false)
	l.client.SetPathStatus(id, true)
	l.pathLoss[l.cAddr2] = 0.1
	transfer(t, l, 2<<20, 2*time.Minute)
	if l.client.stats.PacketsLost == 0 && l.server.stats.PacketsLost == 0 {
		t.Fatal("no loss was detected on the lossy path")
	}
	t.Logf("lost %d/%d packets, dropped %d datagrams", l.client.stats.PacketsLost, l.server.stats.PacketsLost, l.dropped)
}

func TestMultipathPathCIDsBlocked(t *testing.T) {
	l := newLinkWith(t, 104, func(c, s *Config) { c.Multipath, s.Multipath = true, true })
	l.runUntil(l.client.HandshakeComplete, 5*time.Second)
	// The server's PATH_NEW_CONNECTION_IDs are still in flight.
	if _, err := l.client.OpenPath(l.now, l.sAddr2); !errors.Is(err, ErrPathCIDsBlocked) {
		t.Fatalf("OpenPath before the peer's CIDs: %v", err)
	}
	l.runUntil(func() bool {
		s := l.client.mp.set(1)
		return l.server != nil && l.server.stats.PathCIDsBlocked == 1 && s != nil && s.remote.usable()
	}, 5*time.Second)
	if _, err := l.client.OpenPath(l.now, l.sAddr2); err != nil {
		t.Fatalf("OpenPath once CIDs arrived: %v", err)
	}
}

func TestMultipathPathLimit(t *testing.T) {
	l := newMPLink(t, 105, true, true)
	l.runUntil(func() bool { s := l.client.mp.set(InitialMaxPathID); return s != nil && s.remote.usable() }, 5*time.Second)
	for i := 1; i <= InitialMaxPathID; i++ {
		if _, err := l.client.OpenPath(l.now, l.sAddr2); err != nil {
			t.Fatalf("path %d: %v", i, err)
		}
	}
	if _, err := l.client.OpenPath(l.now, l.sAddr2); !errors.Is(err, ErrPathLimit) {
		t.Fatalf("ninth path: %v", err)
	}
	l.runUntil(func() bool { return l.frames[wire.FramePathsBlocked] > 0 }, 5*time.Second)
}

func TestMultipathNoViablePath(t *testing.T) {
	l := newMPLink(t, 106, true, true)
	id := openSecondPath(t, l)
	l.client.ClosePath(l.now, 0, ApplicationAbandonPath)
	l.runUntil(func() bool { return len(l.server.paths) == 1 }, 10*time.Second)
	// Abandon the last path (as a failed path would) and open nothing.
	l.client.abandonPath(l.now, l.client.paths.byID(uint64(id)), PathUnstableOrPoor, false)
	start := l.now
	l.runUntil(func() bool { return l.client.IsClosed() && l.server.IsClosed() }, 30*time.Second)
	if !errors.Is(l.client.Err(), ErrNoViablePath) || !errors.Is(l.server.Err(), ErrNoViablePath) {
		t.Fatalf("errors: client %v server %v", l.client.Err(), l.server.Err())
	}
	if d := l.now.Sub(start); d > 5*time.Second {
		t.Fatalf("NO_VIABLE_PATH after %v", d)
	}
}

func TestMultipathReplaceLastPath(t *testing.T) {
	l := newMPLink(t, 107, true, true)
	l.runUntil(func() bool { s := l.client.mp.set(1); return s != nil && s.remote.usable() }, 5*time.Second)
	// The last path fails; a replacement opened within the grace period
	// keeps the connection.
	l.client.abandonPath(l.now, l.client.paths.byID(0), PathUnstableOrPoor, false)
	id, err := l.client.OpenPath(l.now, l.sAddr2)
	if err != nil {
		t.Fatal(err)
	}
	l.runUntil(func() bool {
		l.drainEvents()
		_, ok := hasEvent(l.clientEvents, EventPathValidated, id)
		return ok
	}, 10*time.Second)
	transfer(t, l, 256<<10, 30*time.Second)
	if l.client.Err() != nil || l.server.Err() != nil {
		t.Fatalf("errors: %v / %v", l.client.Err(), l.server.Err())
	}
}

func TestMultipathKeyUpdateAcrossPaths(t *testing.T) {
	l := newLinkWith(t, 108, func(c, s *Config) {
		c.Multipath, s.Multipath = true, true
		c.KeyUpdateInterval, s.KeyUpdateInterval = 100, 150
	})
	l.runUntil(l.established, 5*time.Second)
	id := openSecondPath(t, l)
	transfer(t, l, 6<<20, time.Minute) // on path 0
	k0 := l.client.stats.KeyUpdates
	l.client.SetPathStatus(0, false)
	l.client.SetPathStatus(id, true)
	transfer(t, l, 6<<20, time.Minute) // on path 1
	// At least one update while each path carried the data; the server
	// follows every update.
	if k0 == 0 || l.client.stats.KeyUpdates <= k0 || l.server.stats.KeyUpdates+1 < l.client.stats.KeyUpdates {
		t.Fatalf("key updates %d then %d/%d after %v", k0, l.client.stats.KeyUpdates, l.server.stats.KeyUpdates, l.now.Sub(time.Unix(1_700_000_000, 0)))
	}
	if l.bytesVia[l.cAddr2] < 512<<10 {
		t.Fatalf("path 1 carried %d bytes", l.bytesVia[l.cAddr2])
	}
}

func TestMultipathIdlePathAbandoned(t *testing.T) {
	l := newMPLink(t, 109, true, true)
	id := openSecondPath(t, l)
	l.pathLoss[l.cAddr2] = 1 // path 1 dies silently
	start := l.now
	l.runUntil(func() bool {
		l.drainEvents()
		_, ok := hasEvent(l.clientEvents, EventPathAbandoned, id)
		return ok
	}, time.Minute)
	e, _ := hasEvent(l.clientEvents, EventPathAbandoned, id)
	if d := l.now.Sub(start); d < DefaultPathIdleTimeout-time.Second || e.Code != PathUnstableOrPoor {
		t.Fatalf("abandoned after %v with code %#x", d, e.Code)
	}
	transfer(t, l, 64<<10, 30*time.Second)
}

func TestMultipathValidationFailure(t *testing.T) {
	l := newMPLink(t, 110, true, true)
	l.runUntil(func() bool { s := l.client.mp.set(1); return s != nil && s.remote.usable() }, 5*time.Second)
	l.pathLoss[l.cAddr2] = 1
	id, err := l.client.OpenPath(l.now, l.sAddr2)
	if err != nil {
		t.Fatal(err)
	}
	l.runUntil(func() bool {
		l.drainEvents()
		_, ok := hasEvent(l.clientEvents, EventPathAbandoned, id)
		return ok
	}, time.Minute)
	if _, ok := hasEvent(l.clientEvents, EventPathValidated, id); ok {
		t.Fatal("a path that never answered was validated")
	}
}

// TestMultipathResetForAbandonedPathIgnored: after a client abandons a
// path, the server may forget that path's CIDs and answer a late packet
// on it with a stateless reset. That reset must not end the connection
// (it did in the NAT lab's roaming test); one for a live path does.
func TestMultipathResetForAbandonedPathIgnored(t *testing.T) {
	l := newMPLink(t, 131, true, true)
	id := openSecondPath(t, l)
	reset := func(set uint64) []byte {
		s := l.client.mp.set(set)
		for _, c := range s.remote.ids {
			if c.hasToken {
				return append(bytes.Repeat([]byte{0x40}, 24), c.token[:]...)
			}
		}
		t.Fatalf("path %d has no remote CID with a token", set)
		return nil
	}
	late := reset(uint64(id))
	// The reset comes before our CIDs of the path are retired here (as
	// when the server abandoned the path first and forgot it).
	if err := l.client.ClosePath(l.now, id, 0); err != nil {
		t.Fatal(err)
	}
	l.client.HandleDatagram(l.now, l.sAddr2, 0, late)
	if err := l.client.Err(); err != nil {
		t.Fatalf("a reset for the abandoned path closed the connection: %v", err)
	}
	transfer(t, l, 32<<10, 10*time.Second)
	l.client.HandleDatagram(l.now, l.sAddr, 0, reset(0))
	if !errors.Is(l.client.Err(), ErrStatelessReset) {
		t.Fatalf("a reset for the live path: %v", l.client.Err())
	}
}

// TestKeyUpdateKeepsOldKeysUntilPeerFollows: after we update our keys,
// the old read keys stay for as long as the peer has not sent in the new
// phase (it may not have seen our update: our packets were lost), and
// go three PTOs after it did (RFC 9001 §6.5). Dropped at once, a peer
// whose view lags could no longer be read at all.
func TestKeyUpdateKeepsOldKeysUntilPeerFollows(t *testing.T) {
	l := newMPLink(t, 111, true, true)
	transfer(t, l, 1<<10, 5*time.Second) // a phase acknowledged both ways
	l.server.ForceKeyUpdate()
	l.pathLoss[l.cAddr] = 1 // the update goes nowhere, nor does anything else
	l.server.Datagrams().Send([]byte("in the new phase"))
	l.runUntil(func() bool { return l.server.app.generation == 1 }, 5*time.Second)
	end := l.now.Add(10 * time.Second) // far beyond three PTOs
	l.runUntil(func() bool { return !l.now.Before(end) }, 15*time.Second)
	if l.server.app.prev == nil || l.client.app.generation != 0 {
		t.Fatalf("old keys dropped (%v) while the client stayed in its phase (generation %d)", l.server.app.prev == nil, l.client.app.generation)
	}
	clear(l.pathLoss)
	transfer(t, l, 64<<10, 30*time.Second)
	if l.client.app.generation != 1 || l.server.app.awaitPeer || l.server.app.prevUntil.IsZero() && l.server.app.prev != nil {
		t.Fatalf("client generation %d, server awaiting %v, prev kept until %v", l.client.app.generation, l.server.app.awaitPeer, l.server.app.prevUntil)
	}
}
