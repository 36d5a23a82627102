package core

import (
	"errors"

	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// Errors of the application-facing calls.
var (
	ErrNotEstablished     = errors.New("quic: connection not established")
	ErrConnClosed         = errors.New("quic: connection closed")
	ErrDatagramsDisabled  = errors.New("quic: peer does not accept datagrams")
	ErrDatagramTooLarge   = errors.New("quic: datagram too large")
	ErrDatagramQueueFull  = errors.New("quic: datagram send queue full")
	ErrStreamLimitReached = streams.ErrStreamLimit
	ErrWouldBlock         = streams.ErrWouldBlock
)

func (c *Conn) usable() error {
	if c.state >= stateClosing {
		return ErrConnClosed
	}
	if c.state != stateEstablished {
		return ErrNotEstablished
	}
	return nil
}

// OpenStream opens a locally initiated stream. It fails with
// ErrStreamLimitReached until the peer allows more streams.
func (c *Conn) OpenStream(bidi bool) (streams.StreamID, error) {
	if err := c.usable(); err != nil {
		return 0, err
	}
	return c.streams.OpenStream(dir(bidi))
}

// AcceptStream returns the next stream the peer opened, if any.
func (c *Conn) AcceptStream(bidi bool) (streams.StreamID, bool) {
	return c.streams.AcceptStream(dir(bidi))
}

func dir(bidi bool) streams.Dir {
	if bidi {
		return streams.Bidi
	}
	return streams.Uni
}

// Read reads received stream data; ErrWouldBlock means wait for an event.
func (c *Conn) Read(id streams.StreamID, p []byte) (int, error) { return c.streams.Read(id, p) }

// Write buffers stream data; a short write returns ErrWouldBlock.
func (c *Conn) Write(id streams.StreamID, p []byte) (int, error) {
	if c.state >= stateClosing {
		return 0, ErrConnClosed
	}
	return c.streams.Write(id, p)
}

// CloseWrite finishes the sending half after the buffered data.
func (c *Conn) CloseWrite(id streams.StreamID) error { return c.streams.CloseWrite(id) }

// CancelWrite resets the sending half with code.
func (c *Conn) CancelWrite(id streams.StreamID, code uint64) error {
	return c.streams.CancelWrite(id, code)
}

// CancelRead asks the peer to stop sending with code.
func (c *Conn) CancelRead(id streams.StreamID, code uint64) error {
	return c.streams.CancelRead(id, code)
}

// StreamInfo reports a stream's state.
func (c *Conn) StreamInfo(id streams.StreamID) (streams.StreamInfo, bool) { return c.streams.Info(id) }

// MaxDatagramSize is the largest datagram payload SendDatagram accepts now.
func (c *Conn) MaxDatagramSize() int {
	if c.maxDatagram == 0 {
		return 0
	}
	// One 1-RTT packet: short header, packet number, AEAD tag, frame header.
	p := c.paths.primary()
	if !p.remote.usable() {
		return 0
	}
	room := p.rec.MaxDatagramSize() - (1 + len(p.remote.active()) + maxPNLen + 16 + 1 + 8)
	return int(min(uint64(room), c.maxDatagram-1-8))
}

// SendDatagram queues an unreliable datagram (RFC 9221).
func (c *Conn) SendDatagram(p []byte) error {
	if err := c.usable(); err != nil {
		return err
	}
	if c.maxDatagram == 0 {
		return ErrDatagramsDisabled
	}
	if len(p) > c.MaxDatagramSize() {
		return ErrDatagramTooLarge
	}
	if len(c.dgramsOut) >= maxDatagramQueue {
		return ErrDatagramQueueFull
	}
	c.dgramsOut = append(c.dgramsOut, append([]byte(nil), p...))
	return nil
}

// RecvDatagram returns the oldest received datagram, if any.
func (c *Conn) RecvDatagram() ([]byte, bool) {
	if len(c.dgramsIn) == 0 {
		return nil, false
	}
	d := c.dgramsIn[0]
	c.dgramsIn = c.dgramsIn[1:]
	return d, true
}

// Ping makes the next packet ack-eliciting, to probe liveness.
func (c *Conn) Ping() { c.sendPing = true }

// ForceKeyUpdate starts one 1-RTT key update as soon as it is allowed; the
// configured interval applies again afterwards.
func (c *Conn) ForceKeyUpdate() { c.app.forceUpdate = true }

// TakeAckProgress reports whether the peer acknowledged stream data since the
// last call, so a driver can wake callers waiting for delivery (see
// StreamInfo's Acked).
func (c *Conn) TakeAckProgress() bool {
	p := c.ackProgress
	c.ackProgress = false
	return p
}

// MatchesStatelessReset reports whether datagram ends with a stateless
// reset token the peer gave us. A reset carries no connection ID of ours
// (RFC 9000 §10.3.1), so an endpoint indexes the tokens (AppendResetTokens)
// to find the connection an unroutable datagram may end.
func (c *Conn) MatchesStatelessReset(datagram []byte) bool {
	return c.isStatelessReset(datagram)
}

// TakeResetTokensChanged reports, once, that the peer's reset tokens may
// have changed since the last call, so the endpoint's index needs
// AppendResetTokens again.
func (c *Conn) TakeResetTokensChanged() bool {
	ch := c.resetTokensChanged
	c.resetTokensChanged = false
	return ch
}

// AppendResetTokens appends the reset token of every CID the peer gave us.
func (c *Conn) AppendResetTokens(dst []ResetToken) []ResetToken {
	if c.mp == nil {
		return c.paths[0].remote.appendTokens(dst)
	}
	for _, s := range c.mp.sets {
		dst = s.remote.appendTokens(dst)
	}
	return dst
}
