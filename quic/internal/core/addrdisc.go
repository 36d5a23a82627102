package core

import (
	"net/netip"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// QUIC Address Discovery (draft-seemann-quic-address-discovery as noq
// implements it, "QAD"): a side that may send tells the peer, in
// OBSERVED_ADDRESS frames, the address it sees the peer's packets come
// from. iroh uses it only between an endpoint and its relays' QAD
// servers, to learn the endpoint's public (reflexive) address.

// AddressDiscoveryRole is our part in address discovery. The zero value
// leaves the extension off: the transport parameter is not sent.
type AddressDiscoveryRole uint8

const (
	AddressDiscoveryOff     AddressDiscoveryRole = iota
	AddressDiscoverySend                         // we report, we accept no reports (a QAD server)
	AddressDiscoveryReceive                      // we accept reports, we send none (a QAD client)
	AddressDiscoveryBoth
)

func (r AddressDiscoveryRole) sends() bool {
	return r == AddressDiscoverySend || r == AddressDiscoveryBoth
}

func (r AddressDiscoveryRole) receives() bool {
	return r == AddressDiscoveryReceive || r == AddressDiscoveryBoth
}

// wireRole is the transport parameter value; ok is false when off.
func (r AddressDiscoveryRole) wireRole() (wire.AddressDiscoveryRole, bool) {
	switch r {
	case AddressDiscoverySend:
		return wire.AddressDiscoverySendOnly, true
	case AddressDiscoveryReceive:
		return wire.AddressDiscoveryReceiveOnly, true
	case AddressDiscoveryBoth:
		return wire.AddressDiscoverySendReceive, true
	}
	return 0, false
}

func roleFromWire(tp *wire.TransportParameters) AddressDiscoveryRole {
	if !tp.HasAddressDiscovery {
		return AddressDiscoveryOff
	}
	switch tp.AddressDiscovery {
	case wire.AddressDiscoverySendOnly:
		return AddressDiscoverySend
	case wire.AddressDiscoveryReceiveOnly:
		return AddressDiscoveryReceive
	case wire.AddressDiscoverySendReceive:
		return AddressDiscoveryBoth
	}
	return AddressDiscoveryOff
}

// addrDiscovery is the per-connection QAD state. The sequence number is
// per connection (as noq's), the reports we received are per path.
type addrDiscovery struct {
	nextSeq uint64
	owed    map[uint64]bool // path ID → a report about that path is due
	last    map[uint64]observedReport
}

type observedReport struct {
	seq  uint64
	addr netip.AddrPort
}

func (c *Conn) setAddrDiscoveryParam(tp *wire.TransportParameters) {
	if r, ok := c.cfg.AddressDiscovery.wireRole(); ok {
		tp.AddressDiscovery, tp.HasAddressDiscovery = r, true
	}
}

// weReport: we send, the peer wants reports.
func (c *Conn) weReport() bool {
	return c.params.havePeer && c.cfg.AddressDiscovery.sends() && roleFromWire(&c.params.peer).receives()
}

// peerReports: the peer sends, we want reports.
func (c *Conn) peerReports() bool {
	return c.params.havePeer && c.cfg.AddressDiscovery.receives() && roleFromWire(&c.params.peer).sends()
}

func (c *Conn) addrDisc() *addrDiscovery {
	if c.qad == nil {
		c.qad = &addrDiscovery{owed: map[uint64]bool{}, last: map[uint64]observedReport{}}
	}
	return c.qad
}

// startAddrDiscovery owes the first report about path 0 once the
// handshake completes.
func (c *Conn) startAddrDiscovery() {
	if c.weReport() {
		c.addrDisc().owed[c.paths[0].id] = true
	}
}

// oweObservedAddress schedules a report about p: noq repeats it with every
// PATH_CHALLENGE and PATH_RESPONSE, so each validation refreshes it.
func (c *Conn) oweObservedAddress(p *path) {
	if c.weReport() && !p.addr.IsRelay() && p.addr.UDP.IsValid() {
		c.addrDisc().owed[p.id] = true
	}
}

// observedPending reports whether a report about p is due.
func (c *Conn) observedPending(p *path) bool {
	return c.qad != nil && c.qad.owed[p.id] && c.state == stateEstablished
}

// appendObservedAddress adds the report owed about p, if it fits.
func (c *Conn) appendObservedAddress(p *path, add func(*wire.Frame) bool, rec *sentRecord) bool {
	if !c.observedPending(p) {
		return false
	}
	ap := canonical(p.addr.UDP)
	t := wire.FrameObservedAddressIPv4
	if ap.Addr().Is6() {
		t = wire.FrameObservedAddressIPv6
	}
	if !add(&wire.Frame{Type: t, Sequence: c.qad.nextSeq, Addr: ap}) {
		return false
	}
	c.qad.nextSeq++
	delete(c.qad.owed, p.id)
	rec.observed, rec.observedPath = true, p.id
	return true
}

// onObservedLost sends a lost report again (with a new sequence number and
// the path's current address) while the path lives.
func (c *Conn) onObservedLost(pathID uint64) {
	if c.qad == nil {
		return
	}
	for _, p := range c.paths {
		if p.id == pathID && (p.mp == nil || !p.mp.abandoned) {
			c.qad.owed[pathID] = true
			return
		}
	}
}

// handleObservedAddress processes OBSERVED_ADDRESS received on path p
// from from.
func (c *Conn) handleObservedAddress(p *path, from Addr, f *wire.Frame) error {
	if !c.peerReports() {
		return protocolViolation("OBSERVED_ADDRESS when not negotiated")
	}
	if from != p.addr {
		return nil // a report about another address than the path's: we do not migrate
	}
	q := c.addrDisc()
	ap := canonical(f.Addr)
	prev, ok := q.last[p.id]
	switch {
	case ok && f.Sequence <= prev.seq:
		return nil // stale or repeated
	case ok && prev.addr == ap:
		q.last[p.id] = observedReport{seq: f.Sequence, addr: ap}
		return nil
	}
	q.last[p.id] = observedReport{seq: f.Sequence, addr: ap}
	c.emit(Event{Kind: EventObservedAddress, Path: PathID(p.id), Addr: ap})
	return nil
}

// AddressDiscovery reports whether the peer reports our address to us
// (we asked to receive and it agreed to send).
func (c *Conn) AddressDiscovery() bool { return c.peerReports() }

// ObservedAddress returns the latest address the peer reported for path
// id (0 without multipath).
func (c *Conn) ObservedAddress(id PathID) (netip.AddrPort, bool) {
	if c.qad == nil {
		return netip.AddrPort{}, false
	}
	r, ok := c.qad.last[uint64(id)]
	return r.addr, ok
}

// checkIncomingStream enforces the NoIncoming*Streams settings: with a
// limit of 0 any stream of that type the peer opens is beyond it (RFC 9000
// §4.6).
func (c *Conn) checkIncomingStream(id uint64) error {
	if id&1 != uint64(c.side) && c.refusesIncoming(id&2 != 0) {
		return &wire.TransportError{Code: wire.StreamLimitError, Reason: "stream of a type this connection allows none of"}
	}
	return nil
}

// refusesIncoming reports whether the peer may open no stream of a type.
func (c *Conn) refusesIncoming(uni bool) bool {
	if uni {
		return c.cfg.NoIncomingStreams || c.cfg.NoIncomingUniStreams
	}
	return c.cfg.NoIncomingStreams || c.cfg.NoIncomingBidiStreams
}
