package streams

import (
	"bytes"
	"testing"
)

func newTestSend(maxData, buf uint64) *sendStream {
	return newSendStream(NewStreamID(Client, Bidi, 0), maxData, buf)
}

func TestSendLostRangesResentFirst(t *testing.T) {
	s := newTestSend(1<<20, 1<<20)
	data := bytes.Repeat([]byte("0123456789"), 100)
	if n, err := s.write(data); n != len(data) || err != nil {
		t.Fatal(n, err)
	}
	var frames []Frame
	for {
		f, d, _, ok := s.next(300, 1<<30)
		if !ok {
			break
		}
		if !bytes.Equal(d, data[f.Offset:f.Offset+f.Length]) {
			t.Fatalf("frame %+v carries wrong bytes", f)
		}
		frames = append(frames, f)
	}
	if len(frames) < 4 {
		t.Fatalf("only %d frames", len(frames))
	}
	s.onLost(frames[1].Offset, frames[1].Length, false)
	s.onAcked(frames[0].Offset, frames[0].Length, false)
	// Spurious loss of an acked frame must not be resent.
	s.onLost(frames[0].Offset, frames[0].Length, false)
	if n, _ := s.write([]byte("more")); n != 4 {
		t.Fatal("write failed")
	}
	f, _, newBytes, ok := s.next(1000, 1<<30)
	if !ok || f.Offset != frames[1].Offset || f.Length != frames[1].Length || newBytes != 0 {
		t.Fatalf("want retransmit of %+v, got %+v (new %d)", frames[1], f, newBytes)
	}
	f, _, newBytes, _ = s.next(1000, 1<<30)
	if f.Offset != uint64(len(data)) || newBytes != 4 {
		t.Fatalf("want new data next, got %+v", f)
	}
	if s.q.base != frames[0].Length {
		t.Fatalf("acked prefix not freed: base %d", s.q.base)
	}
}

func TestSendFinLifecycle(t *testing.T) {
	s := newTestSend(1<<20, 1<<20)
	s.write([]byte("abc"))
	s.closeWrite()
	f, _, _, ok := s.next(100, 100)
	if !ok || !f.Fin || f.Length != 3 || s.state != SendDataSent {
		t.Fatalf("frame %+v state %v", f, s.state)
	}
	s.onLost(0, 3, true)
	f2, _, _, ok := s.next(100, 100)
	if !ok || f2 != f {
		t.Fatalf("retransmit %+v, want %+v", f2, f)
	}
	s.onAcked(0, 3, true)
	if s.state != SendDataRecvd || !s.done() {
		t.Fatalf("state %v", s.state)
	}
	if _, _, _, ok := s.next(100, 100); ok {
		t.Fatal("frame after completion")
	}
	// A lost fin-only frame is resent alone.
	s = newTestSend(1<<20, 1<<20)
	s.write([]byte("abc"))
	s.next(100, 100)
	s.closeWrite()
	f, _, _, _ = s.next(100, 100)
	if !f.Fin || f.Length != 0 || f.Offset != 3 {
		t.Fatalf("fin frame %+v", f)
	}
	s.onAcked(0, 3, false)
	s.onLost(3, 0, true)
	f2, _, _, ok = s.next(100, 100)
	if !ok || f2 != f {
		t.Fatalf("fin retransmit %+v", f2)
	}
}

func TestSendFlowControlAndBuffer(t *testing.T) {
	s := newTestSend(10, 20)
	n, err := s.write(make([]byte, 30))
	if n != 20 || err != ErrWouldBlock || !s.wantWritable {
		t.Fatalf("write: %d %v", n, err)
	}
	f, _, newBytes, _ := s.next(1000, 1000)
	if f.Length != 10 || newBytes != 10 || !s.streamBlocked() {
		t.Fatalf("stream limit ignored: %+v", f)
	}
	s.maxData = 100
	f, _, _, _ = s.next(1000, 4) // connection credit
	if f.Length != 4 {
		t.Fatalf("connection credit ignored: %+v", f)
	}
	if freed := s.onAcked(0, 10, false); !freed {
		t.Fatal("ack freed nothing")
	}
	if n, _ := s.write(make([]byte, 30)); n != 10 {
		t.Fatalf("after ack, wrote %d want 10", n)
	}
}

func TestSendReset(t *testing.T) {
	s := newTestSend(1000, 1000)
	s.write(make([]byte, 100))
	s.next(60, 1000)
	if !s.reset(7) || s.finalSize != s.sentOff || s.state != SendResetSent {
		t.Fatalf("reset: %+v", s)
	}
	if s.reset(8) {
		t.Fatal("second reset accepted")
	}
	if _, _, _, ok := s.next(100, 100); ok {
		t.Fatal("data after reset")
	}
	s.onLost(0, 10, false) // ignored
	if _, err := s.write([]byte{1}); err != ErrWriteClosed {
		t.Fatalf("write after reset: %v", err)
	}
	s.onResetAcked()
	if !s.done() {
		t.Fatal("not done after reset ack")
	}
}
