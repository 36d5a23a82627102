package core

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// TestRecheckPathEndsOutageAtOnce: the server's data path is path 1 (a
// relay path, say). Its link goes down for a while; what the server sent
// there is lost and its probe timeout on the path backs off. When the
// link is back, the client's RecheckPath has the server answer on path 1
// at once, and the ACK of that answer makes it resend the lost data
// within a few round trips. Without it the data waits for the server's
// next, backed-off probe timeout.
func TestRecheckPathEndsOutageAtOnce(t *testing.T) {
	for _, recheck := range []bool{false, true} {
		l := newMPLink(t, 140, true, true)
		id := openSecondPath(t, l)
		if err := l.server.SetPathStatus(0, false); err != nil { // the server sends on path 1
			t.Fatal(err)
		}
		sid, err := l.server.Streams().Open(false)
		if err != nil {
			t.Fatal(err)
		}
		r := &uniReader{c: l.client}
		send := func(b byte) {
			if _, err := l.server.Streams().Write(sid, bytes.Repeat([]byte{b}, 100)); err != nil {
				t.Fatal(err)
			}
		}
		send('a')
		l.runUntil(func() bool { return r.read() == 100 }, 5*time.Second)

		l.pathLoss[l.cAddr2] = 1 // path 1 goes down
		send('b')
		srv1 := l.server.paths.byID(uint64(id))
		l.runUntil(func() bool { return srv1.rec.PTOCount() >= 4 }, 10*time.Second)
		l.flush() // that probe is lost too
		if r.read() != 100 {
			t.Fatal("data crossed the cut path")
		}
		delete(l.pathLoss, l.cAddr2) // back up, just after a probe was lost
		if recheck {
			if err := l.client.RecheckPath(l.now, id); err != nil {
				t.Fatal(err)
			}
		}
		back := l.now
		l.runUntil(func() bool { return r.read() == 200 }, 10*time.Second)
		took := l.now.Sub(back)
		t.Logf("recheck %v: the lost data arrived %v after the link came back", recheck, took)
		// Four one-way delays: challenge, answer, its ACK, the resent data.
		fast := took <= 5*l.delay
		if fast != recheck {
			t.Fatalf("recheck %v: the lost data arrived %v after the link came back", recheck, took)
		}
		if !bytes.Equal(r.got, append(bytes.Repeat([]byte{'a'}, 100), bytes.Repeat([]byte{'b'}, 100)...)) {
			t.Fatalf("received %q", r.got)
		}
	}
}

// TestRecheckPathLeavesPathUsable: a recheck whose challenge goes
// unanswered does not cost the path its validation, and the calls that
// make no sense fail or do nothing.
func TestRecheckPathLeavesPathUsable(t *testing.T) {
	l := newMPLink(t, 141, true, true)
	id := openSecondPath(t, l)
	l.pathLoss[l.cAddr2] = 1
	if err := l.client.RecheckPath(l.now, id); err != nil {
		t.Fatal(err)
	}
	p := l.client.paths.byID(uint64(id))
	l.runUntil(func() bool { return p.mp.validateBy.IsZero() }, 10*time.Second)
	if !p.mp.usable || p.mp.abandoned {
		t.Fatalf("unanswered recheck: usable %v abandoned %v", p.mp.usable, p.mp.abandoned)
	}
	if err := l.client.RecheckPath(l.now, 7); !errors.Is(err, ErrUnknownPath) {
		t.Fatalf("unknown path: %v", err)
	}
	single := newMPLink(t, 142, true, false)
	if err := single.client.RecheckPath(single.now, 0); !errors.Is(err, ErrMultipathNotNegotiated) {
		t.Fatalf("without multipath: %v", err)
	}
}

// uniReader reads the first unidirectional stream the server opened.
type uniReader struct {
	c   *Conn
	sid streams.StreamID
	ok  bool
	got []byte
}

// read reads what arrived and returns how much arrived in all.
func (r *uniReader) read() int {
	if !r.ok {
		r.sid, r.ok = r.c.Streams().Accept(false)
	}
	buf := make([]byte, 1024)
	for r.ok {
		n, err := r.c.Streams().Read(r.sid, buf)
		r.got = append(r.got, buf[:n]...)
		if err != nil || n == 0 {
			break
		}
	}
	return len(r.got)
}

// TestPeerRechecksCountRebinding: the client counts the server's
// challenges on its validated direct paths, such as the server's
// validation of the client's new address after a NAT rebinding, but not
// the challenge of a path the client is still opening.
func TestPeerRechecksCountRebinding(t *testing.T) {
	l := newMPLink(t, 143, true, true)
	openSecondPath(t, l)
	if n := l.client.PeerRechecks(); n != 0 {
		t.Fatalf("%d peer rechecks after opening a path", n)
	}
	moved := UDPAddr(netip.MustParseAddrPort("10.0.0.1:4242"))
	l.unreachable[l.cAddr] = true
	l.cAddr = moved // path 0's packets now come from another port
	transfer(t, l, 16<<10, 10*time.Second)
	l.drainEvents()
	if _, ok := hasEvent(l.clientEvents, EventPeerRecheck, 0); !ok || l.client.PeerRechecks() == 0 {
		t.Fatalf("rebinding: %d peer rechecks, event %v", l.client.PeerRechecks(), ok)
	}
	if l.server.PeerRechecks() != 0 {
		t.Fatalf("the server counted %d rechecks", l.server.PeerRechecks())
	}
}
