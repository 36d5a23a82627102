package streams

import (
	"errors"
	"io"
	"testing"
)

// readAll drains a stream for the tests' apps; it reports whether the
// receiving half finished (EOF or reset).
func readAll(t *testing.T, m *Manager, id StreamID, buf []byte) bool {
	for {
		_, err := m.Read(id, buf)
		var re *ResetError
		switch {
		case err == nil:
		case err == io.EOF, errors.As(err, &re), errors.Is(err, ErrReadCanceled):
			return true
		case errors.Is(err, ErrWouldBlock):
			return false
		default:
			t.Fatalf("read %v: %v", id, err)
		}
	}
}

// TestNoLeakAfterManyShortStreams runs 10,000 short streams through every
// ending (FIN, reset by the writer, stopped by the reader) over a lossy
// link, with a small stream limit so MAX_STREAMS credit must be replenished
// as streams close. Afterwards neither side may keep any state.
func TestNoLeakAfterManyShortStreams(t *testing.T) {
	const total = 10_000
	cfg := smallWindows()
	cfg.MaxStreamsBidi, cfg.MaxStreamsUni = 20, 20
	l := newSimLink(t, 9, cfg, cfg)
	l.perTick = 20
	client, server := l.ends[0].m, l.ends[1].m
	buf := make([]byte, 4096)
	payload := make([]byte, 300)
	opened := 0
	open := func() {
		for opened < total {
			d := Dir(opened % 2)
			id, err := client.OpenStream(d)
			if errors.Is(err, ErrStreamLimit) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			client.Write(id, payload[:opened%len(payload)])
			switch opened % 7 {
			case 3:
				client.CancelWrite(id, 3)
			default:
				client.CloseWrite(id)
			}
			opened++
		}
	}
	canceled := map[StreamID]bool{}
	serverEvents := func() {
		for ev, ok := server.PollEvent(); ok; ev, ok = server.PollEvent() {
			switch ev.Kind {
			case EventOpened:
				for _, ok := server.AcceptStream(ev.ID.Dir()); ok; _, ok = server.AcceptStream(ev.ID.Dir()) {
				}
				if ev.ID.Index()%5 == 4 {
					canceled[ev.ID] = true
					server.CancelRead(ev.ID, 4)
					if ev.ID.Dir() == Bidi {
						server.CloseWrite(ev.ID)
					}
				}
			case EventReadable:
				if canceled[ev.ID] {
					continue // events queued before CancelRead
				}
				if readAll(t, server, ev.ID, buf) && ev.ID.Dir() == Bidi {
					server.Write(ev.ID, []byte("ok"))
					server.CloseWrite(ev.ID)
				}
			}
		}
	}
	clientEvents := func() {
		for ev, ok := client.PollEvent(); ok; ev, ok = client.PollEvent() {
			switch ev.Kind {
			case EventReadable:
				readAll(t, client, ev.ID, buf)
			case EventStreamsAvailable:
				open()
			}
		}
	}
	open()
	for tick := 0; opened < total || client.NumStreams() > 0 || server.NumStreams() > 0; tick++ {
		if tick > 100_000 {
			t.Fatalf("stalled: opened %d, live streams client %d server %d", opened, client.NumStreams(), server.NumStreams())
		}
		l.step()
		serverEvents()
		clientEvents()
		// The server's live streams are what it granted; the client may
		// briefly hold more (waiting for acks after the server freed them).
		if len(server.streams) > 40 || len(client.streams) > 400 {
			t.Fatalf("too many live streams: client %d server %d", len(client.streams), len(server.streams))
		}
	}
	l.settle(10_000)
	l.checkConnAccounting()
	for i, m := range []*Manager{client, server} {
		if m.NumStreams() != 0 || m.sendQueue.len() != 0 || m.ctrlQueue.len() != 0 ||
			len(m.connBlocked) != 0 || len(m.fcDirty) != 0 || len(m.events) != 0 {
			t.Fatalf("side %d leaks: streams %d send %d ctrl %d connBlocked %d dirty %d events %d", i,
				m.NumStreams(), m.sendQueue.len(), m.ctrlQueue.len(), len(m.connBlocked), len(m.fcDirty), len(m.events))
		}
	}
	if server.nextRemote[Bidi]+server.nextRemote[Uni] != total {
		t.Fatalf("server saw %d streams", server.nextRemote[Bidi]+server.nextRemote[Uni])
	}
	t.Logf("%d ticks, %d packets, frames %v", l.tick, l.packets, l.kinds)
}
