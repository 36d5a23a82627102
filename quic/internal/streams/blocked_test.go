package streams

import "testing"

// drainStream sends every STREAM frame m has now and returns their total
// length.
func drainStream(m *Manager) (frames []Frame, total uint64) {
	for {
		f, _, ok := m.NextStreamFrame(1200)
		if !ok {
			return frames, total
		}
		frames = append(frames, f)
		total += f.Length
	}
}

func TestBlockedFramesOncePerLimit(t *testing.T) {
	m := NewManager(Client, Config{})
	m.SetPeerParams(PeerParams{InitialMaxData: 100, InitialMaxStreamDataBidiRemote: 50, InitialMaxStreamsBidi: 2})
	id, _ := m.OpenStream(Bidi)
	m.Write(id, make([]byte, 300))
	if _, n := drainStream(m); n != 50 {
		t.Fatalf("sent %d, want the stream limit 50", n)
	}
	m.Write(id, make([]byte, 10))
	drainStream(m)
	fs := drainControl(m)
	if n, f := countKind(fs, FrameStreamDataBlocked); n != 1 || f.Value != 50 || f.ID != id {
		t.Fatalf("want one STREAM_DATA_BLOCKED(50): %v", fs)
	}
	// Losing it while still blocked at 50 resends it; after a raise it is moot.
	m.OnLost(Frame{Kind: FrameStreamDataBlocked, ID: id, Value: 50})
	if n, _ := countKind(drainControl(m), FrameStreamDataBlocked); n != 1 {
		t.Fatal("lost STREAM_DATA_BLOCKED not resent")
	}
	if err := m.HandleMaxStreamData(id, 500); err != nil {
		t.Fatal(err)
	}
	if _, n := drainStream(m); n != 50 {
		t.Fatalf("sent %d, want the connection remainder 50", n)
	}
	fs = drainControl(m)
	if n, f := countKind(fs, FrameDataBlocked); n != 1 || f.Value != 100 {
		t.Fatalf("want one DATA_BLOCKED(100): %v", fs)
	}
	if n, _ := countKind(fs, FrameStreamDataBlocked); n != 0 {
		t.Fatalf("stream not blocked by its own limit: %v", fs)
	}
	// A second stream also waits on the connection: still one DATA_BLOCKED.
	id2, _ := m.OpenStream(Bidi)
	m.Write(id2, make([]byte, 10))
	drainStream(m)
	if fs := drainControl(m); len(fs) != 0 {
		t.Fatalf("repeated blocked frames: %v", fs)
	}
	m.HandleMaxData(10_000)
	frames, n := drainStream(m)
	if n != 210+10 {
		t.Fatalf("sent %d after MAX_DATA, want 220", n)
	}
	seen := map[StreamID]bool{}
	for _, f := range frames {
		seen[f.ID] = true
	}
	if !seen[id] || !seen[id2] {
		t.Fatal("a connection-blocked stream was not resumed")
	}
}

func TestWritableAndFinishedEvents(t *testing.T) {
	m := NewManager(Client, Config{SendBuffer: 100})
	m.SetPeerParams(PeerParams{InitialMaxData: 1 << 20, InitialMaxStreamDataUni: 1 << 20, InitialMaxStreamsUni: 1})
	m.PollEvent() // streams available
	id, _ := m.OpenStream(Uni)
	if n, err := m.Write(id, make([]byte, 150)); n != 100 || err != ErrWouldBlock {
		t.Fatalf("write %d %v", n, err)
	}
	frames, _ := drainStream(m)
	if _, ok := m.PollEvent(); ok {
		t.Fatal("event before ack")
	}
	for _, f := range frames {
		m.OnAcked(f)
	}
	if ev, ok := m.PollEvent(); !ok || ev.Kind != EventWritable || ev.ID != id {
		t.Fatalf("want writable, got %+v", ev)
	}
	m.Write(id, make([]byte, 50))
	m.CloseWrite(id)
	frames, _ = drainStream(m)
	if len(frames) != 1 || !frames[0].Fin || frames[0].Offset != 100 {
		t.Fatalf("frames %+v", frames)
	}
	m.OnLost(frames[0])
	m.OnAcked(frames[0]) // the "lost" packet was acknowledged after all
	if ev, ok := m.PollEvent(); !ok || ev.Kind != EventFinished {
		t.Fatalf("want finished, got %+v", ev)
	}
	if m.NumStreams() != 0 {
		t.Fatal("finished uni stream not forgotten")
	}
	if f, _, ok := m.NextStreamFrame(1200); ok {
		t.Fatalf("retransmission after ack: %+v", f)
	}
}
