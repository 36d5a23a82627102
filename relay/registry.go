package relay

import (
	"sync"

	"github.com/alkdev/irohspoke/relay/relayproto"
)

type endpointID = [relayproto.EndpointIDLen]byte

// idEntry holds every connection of one endpoint id: the active one gets
// datagrams; inactive ones (displaced by a newer login) stay open but
// silent, newest last, and the newest is promoted when the active one leaves.
type idEntry struct {
	active   *serverConn
	inactive []*serverConn
	// sentTo are the ids this endpoint sent datagrams to; they get
	// EndpointGone when its last connection goes.
	sentTo map[endpointID]struct{}
}

// registry routes by endpoint id (iroh-relay server/clients.rs semantics).
type registry struct {
	mu  sync.RWMutex
	ids map[endpointID]*idEntry
}

func (r *registry) init() { r.ids = make(map[endpointID]*idEntry) }

// register makes c the active connection for its id and returns the
// connection it displaced, if any.
func (r *registry) register(c *serverConn) (displaced *serverConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.ids[c.id]
	if e == nil {
		e = &idEntry{sentTo: make(map[endpointID]struct{})}
		r.ids[c.id] = e
	}
	if e.active != nil {
		displaced = e.active
		e.inactive = append(e.inactive, displaced)
	}
	e.active = c
	return displaced
}

// unregister removes c. If c was active and another connection remains, that
// one is promoted (returned as promoted). If c was the last connection, gone
// lists the still-connected peers it had sent to.
func (r *registry) unregister(c *serverConn) (promoted *serverConn, gone []*serverConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.ids[c.id]
	if e == nil {
		return nil, nil
	}
	if e.active != c {
		for i, ic := range e.inactive {
			if ic == c {
				e.inactive = append(e.inactive[:i], e.inactive[i+1:]...)
				break
			}
		}
		return nil, nil
	}
	if n := len(e.inactive); n > 0 {
		e.active = e.inactive[n-1]
		e.inactive[n-1] = nil
		e.inactive = e.inactive[:n-1]
		return e.active, nil
	}
	delete(r.ids, c.id)
	for peer := range e.sentTo {
		if pe := r.ids[peer]; pe != nil && pe.active != nil {
			gone = append(gone, pe.active)
		}
	}
	return nil, gone
}

// lookup returns the active connection for id, or nil.
func (r *registry) lookup(id endpointID) *serverConn {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e := r.ids[id]; e != nil {
		return e.active
	}
	return nil
}

// recordSent notes that src sent to dst.
func (r *registry) recordSent(src, dst endpointID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.ids[src]; e != nil {
		e.sentTo[dst] = struct{}{}
	}
}
