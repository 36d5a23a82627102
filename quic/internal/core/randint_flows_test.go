package core

import (
	"errors"
	"io"
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// flow is one direction of one stream in the random-interaction fuzzer:
// what the sender wrote and how it ended, what the receiver read.
type flow struct {
	fromClient bool
	id         streams.StreamID

	written  uint64
	finished bool // sender: CloseWrite
	reset    bool // sender: CancelWrite, or STOP_SENDING made the stack reset it
	stopped  bool // receiver: CancelRead

	got       uint64
	eof       bool
	resetSeen bool
}

// flowByte is the content of every stream at off: it depends on the
// stream and the direction, so data from the wrong stream, offset or
// direction shows up as a mismatch.
func flowByte(fromClient bool, id streams.StreamID, off uint64) byte {
	b := byte(off*7) ^ byte(off>>8) ^ byte(id*13)
	if fromClient {
		b ^= 0x5a
	}
	return b
}

// done reports whether the receiver has everything the flow promises.
func (f *flow) done() bool {
	switch {
	case f.stopped:
		return true
	case f.reset:
		return f.resetSeen || f.eof
	case f.finished:
		return f.eof
	}
	return f.got == f.written
}

// flowSet tracks every flow of both sides.
type flowSet struct {
	t     testing.TB
	flows []*flow
	buf   []byte
}

func (s *flowSet) add(fromClient bool, id streams.StreamID) {
	for _, f := range s.flows {
		if f.fromClient == fromClient && f.id == id {
			return
		}
	}
	s.flows = append(s.flows, &flow{fromClient: fromClient, id: id})
}

func (s *flowSet) pick(b byte) *flow {
	if len(s.flows) == 0 {
		return nil
	}
	return s.flows[int(b)%len(s.flows)]
}

// write sends n pattern bytes on f through sender; a short write counts
// only what was taken.
func (s *flowSet) write(sender *Conn, f *flow, n int) {
	if f.finished || f.reset {
		return
	}
	p := make([]byte, n)
	for i := range p {
		p[i] = flowByte(f.fromClient, f.id, f.written+uint64(i))
	}
	m, err := sender.Streams().Write(f.id, p)
	f.written += uint64(m)
	var stopped *streams.StoppedError
	if errors.As(err, &stopped) {
		f.reset = true
	}
}

// accept adopts the streams the peer of receiver opened; a bidi stream
// gets its reverse flow.
func (s *flowSet) accept(receiver *Conn, receiverIsClient bool) {
	for _, bidi := range []bool{true, false} {
		for {
			id, ok := receiver.Streams().Accept(bidi)
			if !ok {
				break
			}
			s.add(!receiverIsClient, id)
			if bidi {
				s.add(receiverIsClient, id)
			}
		}
	}
}

// read drains what receiver has for f and checks it.
func (s *flowSet) read(receiver *Conn, f *flow) {
	for !f.eof && !f.resetSeen && !f.stopped {
		n, err := receiver.Streams().Read(f.id, s.buf)
		for i, b := range s.buf[:n] {
			if want := flowByte(f.fromClient, f.id, f.got+uint64(i)); b != want {
				s.t.Fatalf("stream %d (from client %v): byte at %d is %#x, want %#x", f.id, f.fromClient, f.got+uint64(i), b, want)
			}
		}
		f.got += uint64(n)
		if f.got > f.written {
			s.t.Fatalf("stream %d: read %d bytes, only %d written", f.id, f.got, f.written)
		}
		var reset *streams.ResetError
		switch {
		case err == nil:
			continue
		case errors.Is(err, ErrWouldBlock):
			return
		case err == io.EOF:
			if !f.finished || f.got != f.written {
				s.t.Fatalf("stream %d: EOF after %d bytes, sender wrote %d (finished %v)", f.id, f.got, f.written, f.finished)
			}
			f.eof = true
		case errors.As(err, &reset):
			if !f.reset {
				s.t.Fatalf("stream %d: reset seen, sender never reset it", f.id)
			}
			f.resetSeen = true
		case errors.Is(err, streams.ErrUnknownStream) && f.got == 0:
			return // the peer's first frame has not arrived yet
		default:
			s.t.Fatalf("stream %d: read after %d bytes: %v", f.id, f.got, err)
		}
	}
}

func (s *flowSet) allDone() bool {
	for _, f := range s.flows {
		if !f.done() {
			return false
		}
	}
	return true
}
