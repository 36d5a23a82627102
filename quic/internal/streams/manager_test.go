package streams

import (
	"errors"
	"io"
	"testing"
	"time"
)

func pair(t *testing.T, client, server Config) (*Manager, *Manager) {
	t.Helper()
	a, b := NewManager(Client, client), NewManager(Server, server)
	a.SetPeerParams(b.LocalParams())
	b.SetPeerParams(a.LocalParams())
	return a, b
}

// drainControl collects every control frame m currently owes.
func drainControl(m *Manager) []Frame {
	var fs []Frame
	for {
		f, ok := m.NextControl(simEpoch, 1200)
		if !ok {
			return fs
		}
		fs = append(fs, f)
	}
}

func countKind(fs []Frame, k FrameKind) (n int, last Frame) {
	for _, f := range fs {
		if f.Kind == k {
			n++
			last = f
		}
	}
	return n, last
}

func TestStreamIDBits(t *testing.T) {
	cases := []struct {
		id   StreamID
		side Side
		dir  Dir
		idx  uint64
	}{{0, Client, Bidi, 0}, {1, Server, Bidi, 0}, {2, Client, Uni, 0}, {3, Server, Uni, 0}, {4, Client, Bidi, 1}, {15, Server, Uni, 3}}
	for _, c := range cases {
		if c.id.Initiator() != c.side || c.id.Dir() != c.dir || c.id.Index() != c.idx {
			t.Errorf("%d: got %v %v %d", c.id, c.id.Initiator(), c.id.Dir(), c.id.Index())
		}
		if NewStreamID(c.side, c.dir, c.idx) != c.id {
			t.Errorf("NewStreamID(%v,%v,%d) != %d", c.side, c.dir, c.idx, c.id)
		}
	}
	if StreamID(2).CanRecv(Client) || !StreamID(2).CanSend(Client) || StreamID(2).CanSend(Server) {
		t.Error("client uni stream direction rules")
	}
}

func TestStreamLimitsAndBlocked(t *testing.T) {
	a, b := pair(t, Config{}, Config{MaxStreamsBidi: 3, MaxStreamsUni: 1})
	for i := 0; i < 3; i++ {
		if _, err := a.OpenStream(Bidi); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.OpenStream(Bidi); !errors.Is(err, ErrStreamLimit) {
		t.Fatalf("want ErrStreamLimit, got %v", err)
	}
	a.OpenStream(Bidi) // a second refusal must not queue another frame
	fs := drainControl(a)
	if n, f := countKind(fs, FrameStreamsBlocked); n != 1 || f.Value != 3 || f.Dir != Bidi {
		t.Fatalf("STREAMS_BLOCKED frames: %v", fs)
	}
	// The peer must not exceed our limit either.
	err := a.HandleStream(NewStreamID(Server, Uni, 100), 0, nil, false)
	wantCode(t, err, StreamLimitError)
	// Server sees STREAMS_BLOCKED(3) while it granted 3: nothing to resend.
	if err := b.HandleStreamsBlocked(Bidi, 3); err != nil {
		t.Fatal(err)
	}
	if fs := drainControl(b); len(fs) != 0 {
		t.Fatalf("unexpected frames %v", fs)
	}
	// The client's third stream opens streams 0..2 at the server at once.
	last := NewStreamID(Client, Bidi, 2)
	if err := b.HandleStream(last, 0, []byte("x"), true); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 3; i++ {
		id, ok := b.AcceptStream(Bidi)
		if !ok || id != NewStreamID(Client, Bidi, i) {
			t.Fatalf("accept %d: %v %v", i, id, ok)
		}
	}
	if _, ok := b.AcceptStream(Bidi); ok {
		t.Fatal("accepted a stream never opened")
	}
	// Finish stream 2 both ways; the server grants one more stream.
	buf := make([]byte, 10)
	if n, err := b.Read(last, buf); n != 1 || err != io.EOF {
		t.Fatalf("read: %d %v", n, err)
	}
	b.CloseWrite(last)
	fin, _, ok := b.NextStreamFrame(1200)
	if !ok || !fin.Fin {
		t.Fatalf("fin frame: %+v %v", fin, ok)
	}
	b.OnAcked(fin)
	if _, ok := b.Info(last); ok {
		t.Fatal("finished stream not forgotten")
	}
	fs = drainControl(b)
	n, f := countKind(fs, FrameMaxStreams)
	if n != 1 || f.Value != 4 || f.Dir != Bidi {
		t.Fatalf("MAX_STREAMS frames: %v", fs)
	}
	for _, ok := a.PollEvent(); ok; _, ok = a.PollEvent() {
	}
	a.HandleMaxStreams(Bidi, f.Value)
	if ev, ok := a.PollEvent(); !ok || ev.Kind != EventStreamsAvailable || ev.Dir != Bidi {
		t.Fatalf("event %+v %v", ev, ok)
	}
	if _, err := a.OpenStream(Bidi); err != nil {
		t.Fatal(err)
	}
	// A lost MAX_STREAMS is resent.
	b.OnLost(f)
	if n, _ := countKind(drainControl(b), FrameMaxStreams); n != 1 {
		t.Fatal("lost MAX_STREAMS not resent")
	}
	wantCode(t, a.HandleMaxStreams(Uni, MaxStreamCount+1), FrameEncodingError)
}

func TestStreamStateErrors(t *testing.T) {
	a, _ := pair(t, Config{}, Config{})
	own := NewStreamID(Client, Uni, 0)
	wantCode(t, a.HandleStream(NewStreamID(Client, Bidi, 0), 0, nil, false), StreamStateError) // not opened yet
	a.OpenStream(Uni)
	wantCode(t, a.HandleStream(own, 0, []byte{1}, false), StreamStateError)
	wantCode(t, a.HandleResetStream(own, 0, 0), StreamStateError)
	wantCode(t, a.HandleStreamDataBlocked(own, 0), StreamStateError)
	peerUni := NewStreamID(Server, Uni, 0)
	wantCode(t, a.HandleStopSending(peerUni, 0), StreamStateError)
	wantCode(t, a.HandleMaxStreamData(peerUni, 10), StreamStateError)
}

func TestConnectionFlowControlCountsOutOfOrder(t *testing.T) {
	cfg := Config{StreamWindow: 1000, ConnWindow: 1500}
	_, b := pair(t, Config{}, cfg)
	s0, s1 := NewStreamID(Client, Bidi, 0), NewStreamID(Client, Bidi, 1)
	// Only the last byte of each stream's window: 2000 bytes counted.
	if err := b.HandleStream(s0, 999, []byte{1}, false); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.HandleStream(s1, 999, []byte{1}, false), FlowControlError)
}

func TestResetAndStopSending(t *testing.T) {
	a, b := pair(t, Config{}, Config{})
	id, _ := a.OpenStream(Bidi)
	a.Write(id, []byte("hello world"))
	f, data, _ := a.NextStreamFrame(1200)
	if err := b.HandleStream(id, f.Offset, data, f.Fin); err != nil {
		t.Fatal(err)
	}
	b.AcceptStream(Bidi)
	// Server stops reading: STOP_SENDING goes out; client resets in turn.
	b.CancelRead(id, 77)
	fs := drainControl(b)
	if n, stop := countKind(fs, FrameStopSending); n != 1 || stop.Code != 77 {
		t.Fatalf("frames %v", fs)
	}
	b.OnLost(Frame{Kind: FrameStopSending, ID: id, Code: 77})
	if n, _ := countKind(drainControl(b), FrameStopSending); n != 1 {
		t.Fatal("lost STOP_SENDING not resent")
	}
	if err := a.HandleStopSending(id, 77); err != nil {
		t.Fatal(err)
	}
	var stopped bool
	for ev, ok := a.PollEvent(); ok; ev, ok = a.PollEvent() {
		stopped = stopped || (ev.Kind == EventStopped && ev.Code == 77)
	}
	if !stopped {
		t.Fatal("no EventStopped")
	}
	var se *StoppedError
	if _, err := a.Write(id, []byte("x")); !errors.As(err, &se) || se.Code != 77 {
		t.Fatalf("write after stop: %v", err)
	}
	fs = drainControl(a)
	n, rst := countKind(fs, FrameResetStream)
	if n != 1 || rst.Code != 77 || rst.Value != 11 {
		t.Fatalf("RESET_STREAM: %v", fs)
	}
	if err := b.HandleResetStream(id, rst.Code, rst.Value); err != nil {
		t.Fatal(err)
	}
	a.OnAcked(rst)
	// Client still owns the receiving half; server still the sending half.
	b.CancelWrite(id, 5)
	fs = drainControl(b)
	_, rst2 := countKind(fs, FrameResetStream)
	if rst2.Value != 0 || rst2.Code != 5 {
		t.Fatalf("server reset %v", fs)
	}
	if err := a.HandleResetStream(id, rst2.Code, rst2.Value); err != nil {
		t.Fatal(err)
	}
	var re *ResetError
	if _, err := a.Read(id, make([]byte, 4)); !errors.As(err, &re) || re.Code != 5 {
		t.Fatalf("read after reset: %v", err)
	}
	b.OnAcked(rst2)
	if a.NumStreams() != 0 || b.NumStreams() != 0 {
		t.Fatalf("streams left: %d %d", a.NumStreams(), b.NumStreams())
	}
}

func TestWindowAutoTuning(t *testing.T) {
	_, b := pair(t, Config{}, Config{StreamWindow: 10_000, MaxStreamWindow: 40_000})
	b.SetRTT(10 * time.Millisecond)
	id := NewStreamID(Client, Uni, 0)
	now := simEpoch
	var off uint64
	buf := make([]byte, 100_000)
	var limits []uint64
	for round := 0; round < 8; round++ {
		// The app reads the whole window in 1 ms: far faster than the RTT.
		lim := b.streams[id]
		n := uint64(5000)
		if lim != nil {
			n = lim.recv.fc.limit - off
		}
		if err := b.HandleStream(id, off, make([]byte, n), false); err != nil {
			t.Fatal(err)
		}
		off += n
		b.Read(id, buf)
		now = now.Add(time.Millisecond)
		for _, f := range drainControlAt(b, now) {
			if f.Kind == FrameMaxStreamData {
				limits = append(limits, f.Value)
			}
		}
	}
	w := b.streams[id].recv.fc.window
	if w != 40_000 {
		t.Fatalf("window %d after fast reads, want the 40000 cap (limits %v)", w, limits)
	}
	if b.connRecv.window < w*3/2 {
		t.Fatalf("connection window %d below 1.5 × stream window", b.connRecv.window)
	}
}

func drainControlAt(m *Manager, now time.Time) []Frame {
	var fs []Frame
	for {
		f, ok := m.NextControl(now, 1200)
		if !ok {
			return fs
		}
		fs = append(fs, f)
	}
}
