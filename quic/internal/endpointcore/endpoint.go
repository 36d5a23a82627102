// Package endpointcore is the sans-IO QUIC endpoint. Fed each received
// datagram with the time, it says which connection the datagram is for,
// starts server connections (through the admission gate, with Retry when
// it asks for one), answers what no connection owns (Version Negotiation,
// stateless resets) and queues handshaken server connections for Accept
// (refusing new ones while the application is behind).
// Connections tell it their connection IDs, reset tokens and handshake
// completion. It has no goroutines, clocks, sockets or locks: the driver
// (package quic) moves bytes and time, runs the connections and
// serialises calls.
package endpointcore

import (
	"crypto/rand"
	"errors"
	"io"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/admission"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Defaults for zero Config fields.
const (
	DefaultAcceptQueue        = 64
	DefaultResponsesPerSecond = 64
)

// ErrClosed: the endpoint was closed.
var ErrClosed = errors.New("quic: endpoint closed")

// Config sets up an Endpoint.
type Config struct {
	// Server is the configuration of incoming connections; nil makes a
	// client-only endpoint that ignores Initials.
	Server *core.Config
	// MaxIncoming bounds the incoming connections held at once,
	// handshaking or established; Initials past it are refused with
	// CONNECTION_REFUSED. 0 means no limit.
	MaxIncoming int
	// Admission bounds handshakes in progress and says when to Retry.
	Admission admission.Config
	// ResetKey derives the stateless reset tokens of our connection IDs;
	// it must be the one the connections use.
	ResetKey *core.ResetKey
	// Rand is the randomness of CIDs, tokens and padding; nil: crypto/rand.
	Rand io.Reader
	// AcceptQueue: while this many handshaken connections wait for
	// Accept, Initials are refused with CONNECTION_REFUSED; 0 means
	// DefaultAcceptQueue.
	AcceptQueue int
	// ResponsesPerSecond bounds stateless resets and Version Negotiation
	// packets, so they cannot become a traffic source; 0 means
	// DefaultResponsesPerSecond.
	ResponsesPerSecond int
}

// Endpoint routes datagrams to connections of the driver's type C. It is
// not safe for concurrent use.
type Endpoint[C comparable] struct {
	cfg      Config
	rand     io.Reader
	gate     *admission.Gate
	routes   map[string]C          // our CIDs and client-chosen Initial DCIDs
	resets   map[core.ResetToken]C // the peers' stateless reset tokens
	conns    map[C]*connEntry
	incoming int // server connections held
	accepted []C // handshaken server connections, oldest first
	limiter  rateLimiter
	closed   bool
}

// connEntry is what the endpoint knows of one connection.
type connEntry struct {
	routes []string
	// retired are the newest CIDs the peer retired, still routed to the
	// connection (which drops what it cannot use) so that a packet
	// reordered behind the retirement draws no stateless reset, which
	// the peer would take for the end of the connection.
	retired []string
	tokens  []core.ResetToken
	server  bool
	// admitted: a handshake the gate counts until it ends.
	admitted     bool
	admittedFrom core.Addr
}

// New returns an Endpoint.
func New[C comparable](cfg Config) (*Endpoint[C], error) {
	if cfg.ResetKey == nil {
		return nil, errors.New("endpointcore: Config.ResetKey is required")
	}
	if cfg.AcceptQueue <= 0 {
		cfg.AcceptQueue = DefaultAcceptQueue
	}
	if cfg.ResponsesPerSecond <= 0 {
		cfg.ResponsesPerSecond = DefaultResponsesPerSecond
	}
	e := &Endpoint[C]{
		cfg:     cfg,
		rand:    cfg.Rand,
		routes:  make(map[string]C),
		resets:  make(map[core.ResetToken]C),
		conns:   make(map[C]*connEntry),
		limiter: rateLimiter{limit: cfg.ResponsesPerSecond},
	}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	var err error
	if e.gate, err = admission.New(cfg.Admission, e.rand); err != nil {
		return nil, err
	}
	return e, nil
}

// Action is what the driver does with a datagram.
type Action uint8

const (
	// Drop it.
	Drop Action = iota
	// Deliver it to Result.Conn.
	Deliver
	// NewConn: adopt Result.Incoming (a new server connection: wrap its
	// Core, call Adopt), then deliver the datagram to it.
	NewConn
	// Respond: send Result.Response back to the sender.
	Respond
)

// Result is the endpoint's verdict on one datagram.
type Result[C comparable] struct {
	Action   Action
	Conn     C
	Incoming *Incoming
	Response []byte
	// Err says why a connection could not be started (Action is Drop).
	Err error
}

// Handle decides on a datagram from from. A response is built in resp's
// spare capacity (a few hundred bytes are enough).
func (e *Endpoint[C]) Handle(now time.Time, from core.Addr, data, resp []byte) Result[C] {
	var none Result[C]
	class, h := classify(data)
	switch class {
	case classDrop:
		return none
	case classVersionNeg:
		return e.versionNegotiation(now, &h, resp)
	}
	if c, ok := e.routes[string(h.DCID)]; ok {
		return Result[C]{Action: Deliver, Conn: c}
	}
	switch class {
	case classInitial:
		if e.cfg.Server == nil || e.closed || !acceptableInitial(len(data), &h) {
			return none
		}
		return e.admit(now, from, &h, resp)
	case classShort:
		// A stateless reset carries no CID of ours; the token at its end
		// tells which connection it ends (RFC 9000 §10.3.1).
		if c, ok := e.resetTarget(data); ok {
			return Result[C]{Action: Deliver, Conn: c}
		}
		return e.statelessReset(now, len(data), h.DCID, resp)
	}
	return none
}

// resetTarget returns the connection whose peer's reset token ends d.
func (e *Endpoint[C]) resetTarget(d []byte) (C, bool) {
	var c C
	if len(d) < minResetSize {
		return c, false
	}
	var t core.ResetToken
	copy(t[:], d[len(d)-len(t):])
	c, ok := e.resets[t]
	return c, ok
}

func (e *Endpoint[C]) statelessReset(now time.Time, triggerLen int, dcid, resp []byte) Result[C] {
	// A closing endpoint sends none: its CONNECTION_CLOSE packets are on
	// their way (perhaps over a slower relay path), and a reset racing
	// them would hide the application's close code from the peer.
	if e.closed || len(dcid) != core.LocalCIDLen || !e.limiter.allow(now) {
		return Result[C]{}
	}
	pkt, ok := appendStatelessReset(resp[:0], triggerLen, e.cfg.ResetKey.Token(dcid), e.rand)
	if !ok {
		return Result[C]{}
	}
	return Result[C]{Action: Respond, Response: pkt}
}

func (e *Endpoint[C]) versionNegotiation(now time.Time, h *wire.Header, resp []byte) Result[C] {
	if !e.limiter.allow(now) {
		return Result[C]{}
	}
	var unused [1]byte
	_, _ = io.ReadFull(e.rand, unused[:])
	pkt, ok := appendVersionNegotiation(resp[:0], h, unused[0])
	if !ok {
		return Result[C]{}
	}
	return Result[C]{Action: Respond, Response: pkt}
}
