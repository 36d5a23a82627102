package websocket

import (
	"bufio"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"sync"
	"time"
)

// DefaultMaxMessageSize is the largest reassembled message accepted by
// default: iroh's 1 MiB MAX_FRAME_SIZE.
const DefaultMaxMessageSize = 1 << 20

// Role says which end of the connection a Conn is.
type Role uint8

const (
	// ClientRole masks every frame it sends and refuses masked frames.
	ClientRole Role = iota + 1
	// ServerRole refuses unmasked frames and never masks.
	ServerRole
)

// ErrClosed is returned by writes after Close or after a close frame was sent.
var ErrClosed = errors.New("websocket: connection closed")

// closeWriteTimeout bounds the write of a close frame so that closing never
// hangs on a peer that does not read.
const closeWriteTimeout = time.Second

// Conn is a WebSocket connection over an established net.Conn. Reads must
// come from one goroutine; writes may come from several (they are
// serialised). It never starts goroutines of its own: pings are answered
// from inside ReadMessage unless OnPing hands them to the owner.
type Conn struct {
	nc   net.Conn
	br   *bufio.Reader
	role Role

	// MaxMessageSize bounds reassembled data messages; 0 means
	// DefaultMaxMessageSize. Set it before the first read.
	MaxMessageSize int
	// OnPong, if set, is called from ReadMessage for each pong received.
	OnPong func(payload []byte)
	// OnPing, if set, is called from ReadMessage for each ping instead of
	// answering it there; the owner sends the pong (QueueControl or
	// WriteControl) from its writer, under its own write deadline. The
	// payload is only valid during the call.
	OnPing func(payload []byte)
	// OnReadFrame, if set, is called from ReadMessage with the size of
	// every frame, data or control, header included, once the frame is
	// known to be within limits and before its payload is read. A rate
	// limiter may block in it.
	OnReadFrame func(size int)

	// Read side (one reader).
	msg  []byte
	ctrl [maxControlPayload]byte

	// Write side.
	wmu       sync.Mutex
	wbuf      []byte
	rng       *mrand.ChaCha8
	closeSent bool
	closed    bool
}

// NewConn wraps nc. br, if not nil, must be a reader over nc that may hold
// bytes already read past the HTTP upgrade.
func NewConn(nc net.Conn, br *bufio.Reader, role Role) *Conn {
	if br == nil {
		br = bufio.NewReaderSize(nc, 16<<10)
	}
	c := &Conn{nc: nc, br: br, role: role}
	if role == ClientRole {
		var seed [32]byte
		_, _ = rand.Read(seed[:])
		c.rng = mrand.NewChaCha8(seed)
	}
	return c
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// SetReadDeadline sets the underlying connection's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the underlying connection's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

func (c *Conn) maxSize() int {
	if c.MaxMessageSize > 0 {
		return c.MaxMessageSize
	}
	return DefaultMaxMessageSize
}

// ReadMessage returns the next data message (OpBinary or OpText). The payload
// is only valid until the next call. Pings are answered, pongs reported to
// OnPong, and a close frame is echoed and turned into a *CloseError.
func (c *Conn) ReadMessage() (Opcode, []byte, error) {
	if cap(c.msg) > 4*c.maxSizeHint() {
		c.msg = nil // don't pin the memory of one unusually large message
	}
	c.msg = c.msg[:0]
	var msgOp Opcode
	open := false
	for {
		h, err := c.readHeader()
		if err != nil {
			return 0, nil, err
		}
		if h.Op.IsControl() {
			c.charge(h)
			p := c.ctrl[:h.Length]
			if _, err := io.ReadFull(c.br, p); err != nil {
				return 0, nil, unexpectedEOF(err)
			}
			if h.Masked {
				Mask(h.MaskKey, 0, p)
			}
			if err := c.handleControl(h.Op, p); err != nil {
				return 0, nil, err
			}
			continue
		}
		switch {
		case h.Op == OpContinuation && !open:
			return 0, nil, ErrFragmentation
		case h.Op != OpContinuation && open:
			return 0, nil, ErrFragmentation
		case h.Op != OpContinuation:
			msgOp, open = h.Op, true
		}
		if h.Length > uint64(c.maxSize()-len(c.msg)) {
			return 0, nil, ErrMessageTooLarge
		}
		c.charge(h)
		start := len(c.msg)
		c.msg = grow(c.msg, int(h.Length))
		if _, err := io.ReadFull(c.br, c.msg[start:]); err != nil {
			return 0, nil, unexpectedEOF(err)
		}
		if h.Masked {
			Mask(h.MaskKey, 0, c.msg[start:])
		}
		if h.Fin {
			return msgOp, c.msg, nil
		}
	}
}

// charge reports a frame that is about to be read to OnReadFrame.
func (c *Conn) charge(h Header) {
	if c.OnReadFrame != nil {
		c.OnReadFrame(h.Len() + int(h.Length))
	}
}

// maxSizeHint is the buffer size kept between messages.
func (c *Conn) maxSizeHint() int { return 64 << 10 }

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n, 512))
	copy(nb, b)
	return nb
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (c *Conn) readHeader() (Header, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		if err == io.EOF && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	need := 2
	switch b[1] & 0x7F {
	case 126:
		need += 2
	case 127:
		need += 8
	}
	if b[1]&0x80 != 0 {
		need += 4
	}
	b, err = c.br.Peek(need)
	if err != nil {
		return Header{}, unexpectedEOF(err)
	}
	h, n, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	if h.Masked != (c.role == ServerRole) {
		return Header{}, ErrMasking
	}
	_, _ = c.br.Discard(n)
	return h, nil
}

func (c *Conn) handleControl(op Opcode, p []byte) error {
	switch op {
	case OpPing:
		if c.OnPing != nil {
			c.OnPing(p)
			return nil
		}
		if err := c.WriteControl(OpPong, p); err != nil && !errors.Is(err, ErrClosed) {
			return err
		}
	case OpPong:
		if c.OnPong != nil {
			c.OnPong(p)
		}
	case OpClose:
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			c.closeWith(CloseProtocolError, "")
			return err
		}
		echo := code
		if echo == CloseNoStatus {
			echo = CloseNormal
		}
		c.closeWith(echo, "")
		return &CloseError{Code: code, Reason: reason}
	}
	return nil
}

// appendFrame appends one complete frame to c.wbuf; the caller holds wmu.
func (c *Conn) appendFrame(op Opcode, p []byte) {
	h := Header{Fin: true, Op: op, Length: uint64(len(p))}
	if c.role == ClientRole {
		h.Masked = true
		k := c.rng.Uint64()
		h.MaskKey = [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
	}
	c.wbuf = AppendHeader(c.wbuf, h)
	start := len(c.wbuf)
	c.wbuf = append(c.wbuf, p...)
	if h.Masked {
		Mask(h.MaskKey, 0, c.wbuf[start:])
	}
}

// QueueMessage appends one unfragmented data message to the write buffer
// without writing it; Flush sends everything queued in one write.
func (c *Conn) QueueMessage(op Opcode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.closed {
		return ErrClosed
	}
	c.appendFrame(op, p)
	return nil
}

// QueueControl appends a ping or pong (payload at most 125 bytes) to the
// write buffer; Flush sends it.
func (c *Conn) QueueControl(op Opcode, p []byte) error {
	if !op.IsControl() || op == OpClose || len(p) > maxControlPayload {
		return ErrBadControlFrame
	}
	return c.QueueMessage(op, p)
}

// Buffered is the number of queued, unflushed bytes.
func (c *Conn) Buffered() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return len(c.wbuf)
}

// Flush writes every queued frame.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > 256<<10 {
		c.wbuf = nil
	} else {
		c.wbuf = c.wbuf[:0]
	}
	if err != nil {
		// A partial frame may be on the wire; the stream is unusable.
		c.closed = true
	}
	return err
}

// WriteMessage sends one unfragmented data message (plus anything queued).
func (c *Conn) WriteMessage(op Opcode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.closed {
		return ErrClosed
	}
	c.appendFrame(op, p)
	return c.flushLocked()
}

// WriteControl sends a ping or pong (payload at most 125 bytes).
func (c *Conn) WriteControl(op Opcode, p []byte) error {
	if !op.IsControl() || op == OpClose || len(p) > maxControlPayload {
		return ErrBadControlFrame
	}
	return c.WriteMessage(op, p)
}

// closeWith sends a close frame once, bounded by closeWriteTimeout, without
// closing the socket.
func (c *Conn) closeWith(code CloseCode, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.sendCloseLocked(code, reason)
}

func (c *Conn) sendCloseLocked(code CloseCode, reason string) {
	if c.closeSent || c.closed {
		return
	}
	c.closeSent = true
	var pl [maxControlPayload]byte
	c.appendFrame(OpClose, AppendClosePayload(pl[:0], code, reason))
	_ = c.nc.SetWriteDeadline(time.Now().Add(closeWriteTimeout))
	_ = c.flushLocked()
}

// Close sends a close frame with code and reason (if none was sent yet and
// no write is in progress) and closes the underlying connection. It never
// waits for a blocked writer or for the peer's echo.
func (c *Conn) Close(code CloseCode, reason string) error {
	if c.wmu.TryLock() {
		c.sendCloseLocked(code, reason)
		c.closed = true
		c.wmu.Unlock()
	}
	return c.nc.Close()
}
