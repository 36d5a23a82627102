package quic

import (
	"crypto/rand"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/admission"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// The endpoint asks its admission gate about every Initial that would
// start a server connection, so unauthenticated senders cannot make it
// hold unbounded handshake state; see Config.MaxPendingHandshakes.

func (c *Config) admission() admission.Config {
	return admission.Config{
		MaxPending:          c.MaxPendingHandshakes,
		MaxPendingPerSource: c.MaxPendingHandshakesPerSource,
		RetryAbove:          c.RetryAbove,
	}
}

// admitLocked starts a server connection for an unrouted Initial if the
// gate allows; otherwise it may return a Retry packet to send. e.mu is
// held.
func (e *Endpoint) admitLocked(from Addr, h *wire.Header) (*Conn, []byte) {
	if m := e.cfg.MaxIncomingConnections; m > 0 && e.incoming >= m {
		return nil, nil
	}
	now := time.Now()
	a := e.gate.Admit(now, from, h.DCID, h.Token)
	switch a.Verdict {
	case admission.Drop:
		return nil, nil
	case admission.Retry:
		return nil, e.retryPacket(now, from, h)
	}
	c := e.newServerConn(from, h, a.OrigDCID)
	if c != nil {
		e.gate.Started(from)
		c.admittedFrom, c.admitted, c.incoming = from, true, true
		e.incoming++
	}
	return c, nil
}

// leftLocked releases c's place among the incoming connections. e.mu is
// held.
func (e *Endpoint) leftLocked(c *Conn) {
	e.handshakeEndedLocked(c)
	if c.incoming {
		c.incoming = false
		e.incoming--
	}
}

// handshakeEndedLocked releases c's place among the pending handshakes,
// once. e.mu is held.
func (e *Endpoint) handshakeEndedLocked(c *Conn) {
	if c.admitted {
		c.admitted = false
		e.gate.Finished(c.admittedFrom)
	}
}

func (e *Endpoint) handshakeEnded(c *Conn) {
	e.mu.Lock()
	e.handshakeEndedLocked(c)
	e.mu.Unlock()
}

// retryPacket builds a Retry (RFC 9000 §17.2.5) for an Initial: a new SCID
// for the client to use, and a token proving the address on its return.
func (e *Endpoint) retryPacket(now time.Time, from Addr, h *wire.Header) []byte {
	scid := make([]byte, core.LocalCIDLen)
	if _, err := rand.Read(scid); err != nil {
		return nil
	}
	token, err := e.gate.RetryToken(now, from, h.DCID, scid)
	if err != nil {
		return nil
	}
	pkt, err := wire.AppendRetry(nil, wire.Version1, h.SCID, scid, token)
	if err != nil {
		return nil
	}
	tag := protection.RetryIntegrityTag(h.DCID, pkt)
	return append(pkt, tag[:]...)
}
