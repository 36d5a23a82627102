package core

import (
	"net/netip"

	"github.com/alkdev/irohspoke/quic/internal/streams"
)

// EventKind names what a connection reports to its driver.
type EventKind uint8

const (
	// EventHandshakeComplete: the handshake finished; streams may be used.
	EventHandshakeComplete EventKind = iota + 1
	// EventStream: a stream changed (see Stream).
	EventStream
	// EventDatagram: a DATAGRAM arrived; Datagrams().Recv returns it.
	EventDatagram
	// EventClosed: the connection is over; Err says why. It is the last event.
	EventClosed
	// EventNewCID / EventRetiredCID: a local connection ID became valid or
	// stopped being valid, so the endpoint can route packets by it.
	EventNewCID
	EventRetiredCID
	// Multipath path events; Path names the path. EventPathOpened: the
	// client opened a path to us. EventPathValidated: a PATH_RESPONSE
	// proved the path, which may now carry data. EventPathAbandoned: the
	// path is gone (Code, Remote). EventPathStatus: the peer set Status.
	EventPathOpened
	EventPathValidated
	EventPathAbandoned
	EventPathStatus
	// EventNatAddresses: the server's candidate addresses changed
	// (NatTraversal().RemoteAddresses); a client may start a round.
	EventNatAddresses
	// EventObservedAddress: the peer reported the address it sees us at
	// on Path (QUIC Address Discovery); Addr is it.
	EventObservedAddress
	// EventPeerRecheck: the peer challenged Path, a validated direct path,
	// again (see PeerRechecks).
	EventPeerRecheck
)

// Event is one notification from PollEvent.
type Event struct {
	Kind   EventKind
	Stream streams.Event
	Err    error
	CID    [LocalCIDLen]byte
	Path   PathID
	Status PathStatus
	Code   uint64 // PATH_ABANDON error code
	Remote bool   // the peer abandoned the path
	Addr   netip.AddrPort
}

// PollEvent returns the next event, if any.
func (c *Conn) PollEvent() (Event, bool) {
	for {
		if len(c.events) > 0 {
			e := c.events[0]
			c.events = c.events[1:]
			return e, true
		}
		se, ok := c.streams.PollEvent()
		if !ok {
			return Event{}, false
		}
		c.events = append(c.events, Event{Kind: EventStream, Stream: se})
	}
}

func (c *Conn) emit(e Event) { c.events = append(c.events, e) }
