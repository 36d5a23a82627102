package endpointcore

import (
	"io"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/admission"
	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// The admission gate hears of every Initial that would start a server
// connection, so unauthenticated senders cannot make us hold unbounded
// handshake state; past a threshold they must prove their address with a
// Retry round trip first.

// Incoming is a server connection the endpoint started for an Initial.
// The driver wraps Core and hands the wrapper to Adopt.
type Incoming struct {
	Core   *core.Conn
	from   core.Addr
	routes [2]string // the client's Initial DCID and our first CID
}

// admit starts a server connection for an unrouted Initial if the gate
// allows; otherwise it may answer with a Retry.
func (e *Endpoint[C]) admit(now time.Time, from core.Addr, h *wire.Header, resp []byte) Result[C] {
	if m := e.cfg.MaxIncoming; m > 0 && e.incoming >= m {
		// Told at once, the client fails fast instead of timing out.
		return e.refuse(now, h, resp)
	}
	if len(e.accepted) >= e.cfg.AcceptQueue {
		// The application is behind: refuse now rather than run a
		// handshake whose connection would have no place to wait.
		return e.refuse(now, h, resp)
	}
	a := e.gate.Admit(now, from, h.DCID, h.Token)
	switch a.Verdict {
	case admission.Drop:
		return Result[C]{}
	case admission.Retry:
		return e.retry(now, from, h, resp)
	}
	local := make([]byte, core.LocalCIDLen)
	if _, err := io.ReadFull(e.rand, local); err != nil {
		return Result[C]{Err: err}
	}
	var cc *core.Conn
	var err error
	if a.OrigDCID != nil {
		cc, err = core.NewServerRetry(e.cfg.Server, now, from, a.OrigDCID, h.DCID, h.SCID, local)
	} else {
		cc, err = core.NewServer(e.cfg.Server, now, from, h.DCID, h.SCID, local)
	}
	if err != nil {
		return Result[C]{Err: err}
	}
	// The client's Initials carry its chosen DCID until it learns ours.
	in := &Incoming{Core: cc, from: from, routes: [2]string{string(h.DCID), string(local)}}
	return Result[C]{Action: NewConn, Incoming: in}
}

// retry answers an Initial with a Retry: a new SCID for the client to
// use, and a token proving the address on its return.
func (e *Endpoint[C]) retry(now time.Time, from core.Addr, h *wire.Header, resp []byte) Result[C] {
	scid := make([]byte, core.LocalCIDLen)
	if _, err := io.ReadFull(e.rand, scid); err != nil {
		return Result[C]{}
	}
	token, err := e.gate.RetryToken(now, from, h.DCID, scid)
	if err != nil {
		return Result[C]{}
	}
	pkt, ok := appendRetry(resp[:0], h, scid, token)
	if !ok {
		return Result[C]{}
	}
	return Result[C]{Action: Respond, Response: pkt}
}

// refuse answers an Initial with CONNECTION_REFUSED and keeps no state.
func (e *Endpoint[C]) refuse(now time.Time, h *wire.Header, resp []byte) Result[C] {
	if !e.limiter.allow(now) {
		return Result[C]{}
	}
	scid := make([]byte, core.LocalCIDLen)
	if _, err := io.ReadFull(e.rand, scid); err != nil {
		return Result[C]{}
	}
	pkt, ok := appendRefusal(resp[:0], h, scid)
	if !ok {
		return Result[C]{}
	}
	return Result[C]{Action: Respond, Response: pkt}
}

// Adopt registers c, the driver's wrapper of in.Core, which counts as a
// handshake in progress and an incoming connection until it ends.
func (e *Endpoint[C]) Adopt(in *Incoming, c C) {
	ent := &connEntry{server: true, admitted: true, admittedFrom: in.from}
	for _, k := range in.routes {
		e.routes[k] = c
		ent.routes = append(ent.routes, k)
	}
	e.conns[c] = ent
	e.gate.Started(in.from)
	e.incoming++
}

// handshakeEnded releases a connection's place among the pending
// handshakes, once.
func (e *Endpoint[C]) handshakeEnded(ent *connEntry) {
	if ent.admitted {
		ent.admitted = false
		e.gate.Finished(ent.admittedFrom)
	}
}
