package streams

import "testing"

// TestAnnounceOpensStreamAtPeer: an announced stream with no data sends
// one empty STREAM frame at offset 0, the peer accepts the stream from it,
// a lost announcement is sent again, and data makes it moot.
func TestAnnounceOpensStreamAtPeer(t *testing.T) {
	a, b := pair(t, Config{}, Config{})
	id, err := a.OpenStream(Bidi)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := a.NextStreamFrame(1200); ok {
		t.Fatal("a stream with nothing written sent a frame without Announce")
	}
	if err := a.Announce(id); err != nil {
		t.Fatal(err)
	}
	f, data, ok := a.NextStreamFrame(1200)
	if !ok || f.Kind != FrameStream || f.ID != id || f.Offset != 0 || f.Length != 0 || f.Fin || len(data) != 0 {
		t.Fatalf("announcement %+v (%d bytes, ok %v)", f, len(data), ok)
	}
	if _, _, ok := a.NextStreamFrame(1200); ok {
		t.Fatal("announced twice")
	}
	a.OnLost(f)
	again, _, ok := a.NextStreamFrame(1200)
	if !ok || again != f {
		t.Fatalf("lost announcement not resent: %+v %v", again, ok)
	}
	a.OnAcked(again)
	if err := b.HandleStream(f.ID, f.Offset, nil, false); err != nil {
		t.Fatal(err)
	}
	if got, ok := b.AcceptStream(Bidi); !ok || got != id {
		t.Fatalf("peer accepted %v %v, want %v", got, ok, id)
	}

	// Once data went out, Announce and a late loss of it are no-ops.
	id2, _ := a.OpenStream(Bidi)
	if _, err := a.Write(id2, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	d, _, _ := a.NextStreamFrame(1200)
	if d.ID != id2 || d.Length != 2 {
		t.Fatalf("data frame %+v", d)
	}
	a.Announce(id2)
	a.OnLost(Frame{Kind: FrameStream, ID: id2})
	a.OnAcked(d)
	if f, _, ok := a.NextStreamFrame(1200); ok {
		t.Fatalf("stream with data sent %+v", f)
	}
	if err := a.Announce(NewStreamID(Client, Bidi, 40)); err == nil {
		t.Fatal("Announce of an unknown stream succeeded")
	}
}
