package quic

import (
	"io"
	"net/netip"
	"testing"
	"time"
)

// waitClosed fails unless ch closes within a few seconds.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no notification", what)
	}
}

func fired(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestPathsChanged: opening a second path wakes waiters on both ends;
// without an event the channel stays the same and open; after the close
// it is closed at once.
func TestPathsChanged(t *testing.T) {
	scfg := &Config{ALPNs: []string{testALPN}, Multipath: true}
	sep := dualStackEndpoint(t, scfg)
	cep := dualStackEndpoint(t, &Config{Multipath: true})
	port := addrOf(t, sep.LocalAddr()).UDP.Port()
	v4 := UDPAddr(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	v6 := UDPAddr(netip.AddrPortFrom(netip.IPv6Loopback(), port))
	client, server := dialAccept(t, cep, sep, v4)

	cch, sch := client.PathsChanged(), server.PathsChanged()
	if client.PathsChanged() != cch {
		t.Fatal("a second call without an event gave another channel")
	}
	if fired(cch) || fired(sch) {
		t.Fatal("closed before any path event")
	}
	if _, err := client.OpenPath(testCtx(t), v6); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, cch, "client")
	waitClosed(t, sch, "server")
	if len(client.Paths()) != 2 {
		t.Fatalf("paths %+v", client.Paths())
	}
	next := server.PathsChanged()
	if next == sch {
		t.Fatal("the spent channel came back")
	}
	if err := client.SetPathStatus(0, false); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, next, "server after the peer's status change")

	_ = client.Close(0, "done")
	waitClosed(t, client.PathsChanged(), "after close")
}

// TestAckedChanged: a delivery waiter is never woken twice in a row
// without AckedBytes growing (one such wake-up follows progress that
// arrived between taking the channel and reading the offset), so a loop
// on it cannot spin; the
// waits end with everything acknowledged, and a forgotten stream or a
// closed connection wakes waiters at once.
func TestAckedChanged(t *testing.T) {
	client, server, _, _ := pair(t, nil, nil)
	ctx := testCtx(t)
	go func() {
		s, err := server.AcceptStream(ctx)
		if err == nil {
			_, _ = io.Copy(io.Discard, s)
		}
	}()
	s, err := client.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const total = 256 << 10
	ch := s.AckedChanged()
	if fired(ch) {
		t.Fatal("closed before anything was sent")
	}
	go func() { _, _ = s.Write(make([]byte, total)) }()
	last, wakes, idle := s.AckedBytes(), 0, 0
	for last < total {
		waitClosed(t, ch, "ack progress")
		ch = s.AckedChanged() // before reading, so that no change is missed
		now := s.AckedBytes()
		if now == -1 {
			break // forgotten: the send half is done (not finished here)
		}
		wakes++
		if now > last {
			last, idle = now, 0
			continue
		}
		if idle++; idle > 1 {
			t.Fatalf("woken twice without progress at %d (wake %d)", now, wakes)
		}
	}
	if last != total {
		t.Fatalf("acked %d of %d", last, total)
	}
	if fired(ch) {
		t.Fatal("closed with nothing left to acknowledge")
	}
	_ = client.Close(0, "done")
	waitClosed(t, ch, "after close")
	waitClosed(t, s.AckedChanged(), "asked after close")
	t.Logf("%d wake-ups for %d bytes", wakes, total)
}
