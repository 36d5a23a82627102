package quic

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// Stream is one QUIC stream. Read and Write may run concurrently with each
// other; each of them should be called from one goroutine at a time.
type Stream struct {
	c        *Conn
	id       streams.StreamID
	readSig  chan struct{}
	writeSig chan struct{}
	rd, wd   deadline

	// Guarded by c.mu.
	readErr  error // sticky: io.EOF or the read half's *StreamError
	writeErr error // sticky: the send half's *StreamError
	recvDone bool  // the application saw the end of the read half
	sendDone bool  // the send half is finished, reset or stopped
}

func newStream(c *Conn, id streams.StreamID) *Stream {
	s := &Stream{c: c, id: id, readSig: make(chan struct{}, 1), writeSig: make(chan struct{}, 1)}
	side := streams.Client
	if c.core.Side() == core.Server {
		side = streams.Server
	}
	s.recvDone = !id.CanRecv(side)
	s.sendDone = !id.CanSend(side)
	s.rd.init()
	s.wd.init()
	return s
}

// ErrSendOnly and ErrReceiveOnly: the wrong half of a unidirectional stream.
var (
	ErrSendOnly    = errors.New("quic: read on a send-only stream")
	ErrReceiveOnly = errors.New("quic: write on a receive-only stream")
)

// StreamID is the QUIC stream ID.
func (s *Stream) StreamID() int64 { return int64(s.id) }

// Read reads stream data. It returns io.EOF after the peer's FIN and a
// *StreamError after the peer reset the stream.
func (s *Stream) Read(p []byte) (int, error) {
	c := s.c
	for {
		c.mu.Lock()
		if s.readErr != nil {
			err := s.readErr
			c.mu.Unlock()
			return 0, err
		}
		n, err := c.core.Streams().Read(s.id, p)
		blocked := errors.Is(err, core.ErrWouldBlock)
		if err != nil && !blocked {
			err = s.readFailedLocked(err)
		}
		connErr := c.err
		c.mu.Unlock()
		if n > 0 {
			c.wake() // the peer may be owed more flow-control credit
		}
		switch {
		case n > 0 && blocked, len(p) == 0:
			return n, nil
		case !blocked:
			return n, err
		case connErr != nil:
			return 0, connErr
		}
		select {
		case <-s.readSig:
		case <-c.closedCh:
		case <-s.rd.expired():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// readFailedLocked records a terminal read result.
func (s *Stream) readFailedLocked(err error) error {
	var re *streams.ResetError
	switch {
	case errors.Is(err, io.EOF):
		s.readErr = io.EOF
	case errors.As(err, &re):
		s.readErr = &StreamError{StreamID: int64(s.id), Code: re.Code, Remote: true}
	case errors.Is(err, streams.ErrUnknownStream) && !s.id.CanRecv(s.side()):
		return ErrSendOnly
	case s.c.err != nil:
		return s.c.err
	default:
		return fmt.Errorf("quic: stream %d: %w", s.id, err)
	}
	s.recvDone = true
	s.c.forgetLocked(s)
	return s.readErr
}

func (s *Stream) side() streams.Side {
	if s.c.core.Side() == core.Server {
		return streams.Server
	}
	return streams.Client
}

// Write writes all of p, waiting for send-buffer space. It fails with a
// *StreamError once the peer sent STOP_SENDING.
func (s *Stream) Write(p []byte) (int, error) {
	c := s.c
	total := 0
	for total < len(p) {
		c.mu.Lock()
		if s.writeErr != nil {
			err := s.writeErr
			c.mu.Unlock()
			return total, err
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return total, err
		}
		n, err := c.core.Streams().Write(s.id, p[total:])
		total += n
		if err != nil && !errors.Is(err, core.ErrWouldBlock) {
			err = s.writeFailedLocked(err)
			c.mu.Unlock()
			if n > 0 {
				c.wake()
			}
			return total, err
		}
		c.mu.Unlock()
		if n > 0 {
			c.wake()
		}
		if total == len(p) {
			break
		}
		select {
		case <-s.writeSig:
		case <-c.closedCh:
		case <-s.wd.expired():
			return total, os.ErrDeadlineExceeded
		}
	}
	return total, nil
}

func (s *Stream) writeFailedLocked(err error) error {
	var se *streams.StoppedError
	switch {
	case errors.As(err, &se):
		s.writeErr = &StreamError{StreamID: int64(s.id), Code: se.Code, Remote: true}
		return s.writeErr
	case errors.Is(err, streams.ErrWriteClosed):
		return fmt.Errorf("quic: write after Close on stream %d: %w", s.id, ErrClosed)
	case errors.Is(err, streams.ErrUnknownStream) && !s.id.CanSend(s.side()):
		return ErrReceiveOnly
	case s.c.err != nil:
		return s.c.err
	}
	return fmt.Errorf("quic: stream %d: %w", s.id, err)
}

// Close ends the sending half gracefully: the peer reads io.EOF after the
// data written so far. It does not wait for acknowledgement.
func (s *Stream) Close() error {
	c := s.c
	c.mu.Lock()
	err := c.core.Streams().CloseWrite(s.id)
	if err != nil {
		err = s.writeFailedLocked(err)
	}
	c.mu.Unlock()
	c.wake()
	return err
}

// CancelWrite abandons the sending half with RESET_STREAM(code).
func (s *Stream) CancelWrite(code uint64) {
	c := s.c
	c.mu.Lock()
	if c.core.Streams().CancelWrite(s.id, code) == nil && s.writeErr == nil {
		s.writeErr = &StreamError{StreamID: int64(s.id), Code: code}
	}
	s.sendDone = true
	c.forgetLocked(s)
	c.mu.Unlock()
	signal(s.writeSig)
	c.wake()
}

// CancelRead abandons the receiving half and asks the peer to stop
// sending with STOP_SENDING(code).
func (s *Stream) CancelRead(code uint64) {
	c := s.c
	c.mu.Lock()
	if c.core.Streams().CancelRead(s.id, code) == nil && s.readErr == nil {
		s.readErr = &StreamError{StreamID: int64(s.id), Code: code}
	}
	s.recvDone = true
	c.forgetLocked(s)
	c.mu.Unlock()
	signal(s.readSig)
	c.wake()
}

// CloseRead is CancelRead with code 0.
func (s *Stream) CloseRead() { s.CancelRead(0) }

// SetDeadline sets both the read and the write deadline.
func (s *Stream) SetDeadline(t time.Time) error {
	s.rd.set(t)
	s.wd.set(t)
	return nil
}

// SetReadDeadline makes blocked and future Reads fail with
// os.ErrDeadlineExceeded after t; zero removes the deadline.
func (s *Stream) SetReadDeadline(t time.Time) error { s.rd.set(t); return nil }

// SetWriteDeadline makes blocked and future Writes fail with
// os.ErrDeadlineExceeded after t; zero removes the deadline.
func (s *Stream) SetWriteDeadline(t time.Time) error { s.wd.set(t); return nil }
