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

// addrDiscovery is the per-connection QAD state, present once the
// transport parameters agree on a direction. The sequence number is per
// connection (as noq's), the reports we received are per path.
type addrDiscovery struct {
	reports  bool // we send, the peer wants reports
	receives bool // the peer sends, we want reports
	nextSeq  uint64
	owed     map[uint64]bool // path ID → a report about that path is due
	last     map[uint64]observedReport
}

type observedReport struct {
	seq  uint64
	addr netip.AddrPort
}

// newAddrDiscovery is the state for our role and the peer's; nil when
// neither side reports to the other.
func newAddrDiscovery(ours AddressDiscoveryRole, peer *wire.TransportParameters) *addrDiscovery {
	theirs := roleFromWire(peer)
	q := &addrDiscovery{reports: ours.sends() && theirs.receives(), receives: ours.receives() && theirs.sends()}
	if !q.reports && !q.receives {
		return nil
	}
	q.owed, q.last = map[uint64]bool{}, map[uint64]observedReport{}
	return q
}

func setAddrDiscoveryParam(tp *wire.TransportParameters, ours AddressDiscoveryRole) {
	if r, ok := ours.wireRole(); ok {
		tp.AddressDiscovery, tp.HasAddressDiscovery = r, true
	}
}

// owe schedules a report about p: noq repeats it with every
// PATH_CHALLENGE and PATH_RESPONSE, so each validation refreshes it.
func (q *addrDiscovery) owe(p *path) {
	if q != nil && q.reports && !p.addr.IsRelay() && p.addr.UDP.IsValid() {
		q.owed[p.id] = true
	}
}

// due reports whether a report about path id is owed.
func (q *addrDiscovery) due(id uint64) bool { return q != nil && q.owed[id] }

// appendReport adds the report owed about p, if it fits.
func (q *addrDiscovery) appendReport(p *path, add func(*wire.Frame) bool, rec *sentRecord) bool {
	ap := canonical(p.addr.UDP)
	t := wire.FrameObservedAddressIPv4
	if ap.Addr().Is6() {
		t = wire.FrameObservedAddressIPv6
	}
	if !add(&wire.Frame{Type: t, Sequence: q.nextSeq, Addr: ap}) {
		return false
	}
	q.nextSeq++
	delete(q.owed, p.id)
	rec.observed, rec.observedPath = true, p.id
	return true
}

// received records a report about path id and reports whether it
// names a new address.
func (q *addrDiscovery) received(id, seq uint64, ap netip.AddrPort) bool {
	prev, ok := q.last[id]
	if ok && seq <= prev.seq {
		return false // stale or repeated
	}
	q.last[id] = observedReport{seq: seq, addr: ap}
	return !ok || prev.addr != ap
}

// observedPending reports whether a report about p is due now.
func (c *Conn) observedPending(p *path) bool {
	return c.qad.due(p.id) && c.state == stateEstablished
}

// appendObservedAddress adds the report owed about p, if one is due and
// fits.
func (c *Conn) appendObservedAddress(p *path, add func(*wire.Frame) bool, rec *sentRecord) bool {
	return c.observedPending(p) && c.qad.appendReport(p, add, rec)
}

// onObservedLost sends a lost report again (with a new sequence number and
// the path's current address) while the path lives.
func (c *Conn) onObservedLost(pathID uint64) {
	if c.qad == nil {
		return
	}
	if p := c.paths.byID(pathID); p != nil && (p.mp == nil || !p.mp.abandoned) {
		c.qad.owed[pathID] = true
	}
}

// handleObservedAddress processes OBSERVED_ADDRESS received on path p
// from from.
func (c *Conn) handleObservedAddress(p *path, from Addr, f *wire.Frame) error {
	if c.qad == nil || !c.qad.receives {
		return protocolViolation("OBSERVED_ADDRESS when not negotiated")
	}
	if from != p.addr {
		return nil // a report about another address than the path's: we do not migrate
	}
	ap := canonical(f.Addr)
	if c.qad.received(p.id, f.Sequence, ap) {
		c.emit(Event{Kind: EventObservedAddress, Path: PathID(p.id), Addr: ap})
	}
	return nil
}

// AddressDiscovery reports whether the peer reports our address to us
// (we asked to receive and it agreed to send).
func (c *Conn) AddressDiscovery() bool { return c.qad != nil && c.qad.receives }

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
	if id&1 != uint64(c.side) && c.cfg.refusesIncoming(id&2 != 0) {
		return &wire.TransportError{Code: wire.StreamLimitError, Reason: "stream of a type this connection allows none of"}
	}
	return nil
}

// refusesIncoming reports whether the peer may open no stream of a type.
func (c *Config) refusesIncoming(uni bool) bool {
	if uni {
		return c.NoIncomingStreams || c.NoIncomingUniStreams
	}
	return c.NoIncomingStreams || c.NoIncomingBidiStreams
}
