package endpointcore

import (
	"slices"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

// Connect registers c, the driver's wrapper of the client connection cc,
// under cc's connection IDs.
func (e *Endpoint[C]) Connect(c C, cc *core.Conn) error {
	if e.closed {
		return ErrClosed
	}
	ent := &connEntry{}
	for _, id := range cc.LocalCIDs() {
		e.routes[string(id[:])] = c
		ent.routes = append(ent.routes, string(id[:]))
	}
	e.conns[c] = ent
	return nil
}

// CIDIssued routes cid (core.EventNewCID) to c.
func (e *Endpoint[C]) CIDIssued(c C, cid []byte) {
	ent := e.conns[c]
	if ent == nil {
		return
	}
	e.routes[string(cid)] = c
	ent.routes = append(ent.routes, string(cid))
}

// maxRetiredRoutes is how many retired CIDs per connection stay routed.
const maxRetiredRoutes = 32

// CIDRetired stops routing cid (core.EventRetiredCID) to c once
// maxRetiredRoutes newer retirements followed it, so an entry holds its
// live keys plus a few however many the peer retires.
func (e *Endpoint[C]) CIDRetired(c C, cid []byte) {
	ent := e.conns[c]
	if ent == nil {
		return
	}
	k := string(cid)
	for i, rk := range ent.routes {
		if rk == k {
			ent.routes = append(ent.routes[:i], ent.routes[i+1:]...)
			break
		}
	}
	ent.retired = append(ent.retired, k)
	if len(ent.retired) > maxRetiredRoutes {
		old := ent.retired[0]
		ent.retired = append(ent.retired[:0], ent.retired[1:]...)
		if e.routes[old] == c && !slices.Contains(ent.routes, old) {
			delete(e.routes, old)
		}
	}
}

// SetResetTokens replaces the stateless reset tokens of c's peer (after
// core.Conn.TakeResetTokensChanged), so a reset finds c with one look-up.
func (e *Endpoint[C]) SetResetTokens(c C, tokens []core.ResetToken) {
	ent := e.conns[c]
	if ent == nil {
		return
	}
	e.dropTokens(c, ent)
	for _, t := range tokens {
		e.resets[t] = c
	}
	ent.tokens = append(ent.tokens[:0], tokens...)
}

func (e *Endpoint[C]) dropTokens(c C, ent *connEntry) {
	for _, t := range ent.tokens {
		if e.resets[t] == c {
			delete(e.resets, t)
		}
	}
	ent.tokens = ent.tokens[:0]
}

// HandshakeDone notes that c's handshake completed; a server connection
// joins the accept queue. It always finds a place: Initials are refused
// while the queue is full, and a handshake admitted before it filled
// keeps its place, so the queue exceeds AcceptQueue by at most the
// handshakes then in progress (Admission.MaxPending) and no finished
// handshake is thrown away.
func (e *Endpoint[C]) HandshakeDone(c C) {
	ent := e.conns[c]
	if ent == nil {
		return // forgotten already: nothing to queue
	}
	e.handshakeEnded(ent)
	if ent.server {
		e.accepted = append(e.accepted, c)
	}
}

// Accepted takes the oldest handshaken server connection, if any.
func (e *Endpoint[C]) Accepted() (C, bool) {
	var c C
	if len(e.accepted) == 0 {
		return c, false
	}
	c = e.accepted[0]
	e.accepted = e.accepted[1:]
	return c, true
}

// Remove forgets c: its routes, reset tokens and places among the
// handshakes and incoming connections.
func (e *Endpoint[C]) Remove(c C) {
	ent := e.conns[c]
	if ent == nil {
		return
	}
	delete(e.conns, c)
	e.handshakeEnded(ent)
	if ent.server {
		e.incoming--
	}
	e.dropTokens(c, ent)
	for _, k := range append(ent.routes, ent.retired...) {
		if e.routes[k] == c {
			delete(e.routes, k)
		}
	}
}

// Close stops accepting connections and sending stateless resets, and
// returns the connections to close.
func (e *Endpoint[C]) Close() []C {
	e.closed = true
	out := make([]C, 0, len(e.conns))
	for c := range e.conns {
		out = append(out, c)
	}
	return out
}

// Closed reports whether Close was called.
func (e *Endpoint[C]) Closed() bool { return e.closed }

// Len counts the connections, routes and reset tokens the endpoint holds.
func (e *Endpoint[C]) Len() (conns, routes, tokens int) {
	return len(e.conns), len(e.routes), len(e.resets)
}

// Routes counts the connection IDs routed to c.
func (e *Endpoint[C]) Routes(c C) int {
	if ent := e.conns[c]; ent != nil {
		return len(ent.routes)
	}
	return 0
}

// Pending is the number of handshakes the admission gate counts.
func (e *Endpoint[C]) Pending() int { return e.gate.Pending() }
