// Package core is the sans-IO QUIC v1 connection state machine: it is fed
// datagrams and the current time, and polled for datagrams to send, the next
// deadline and events. It has no goroutines, clocks or sockets, so every
// behaviour can be driven in virtual time.
//
// Conn holds what is connection-wide and owns the state of each concern:
// per-path state (address, CIDs, recovery, congestion, the
// application-data packet-number space) lives in *path, in a pathList.
// Without Config.Multipath a connection has exactly one path and behaves
// as plain RFC 9000; with it (and a peer that agrees) multipath (with
// multipath.go, pathsend.go; a path's own share is pathMP, pathmp.go)
// adds paths and PATH_ACKs, and natTraversal (natclient.go,
// natserver.go, natprobe.go, glued in qnt.go) n0 NAT traversal. Streams
// and datagrams are reached through Conn.Streams and Conn.Datagrams.
//
// Moving bytes is done by short-lived values that borrow the Conn: a
// sender (sender.go) assembles one datagram, with a packetBuilder
// (builder.go) filling each packet; a receiver (recv.go, frames.go) takes
// a datagram's packets and their frames; tlsEvents (tlsevents.go) applies
// what the handshake engine produced.
package core

import (
	"crypto/rand"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/recovery"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Side is the role of this end of a connection.
type Side uint8

const (
	Client Side = iota
	Server
)

// Defaults for zero Config fields. They follow iroh's so both ends of a
// connection time out and keep alive alike.
const (
	DefaultIdleTimeout      = 30 * time.Second
	DefaultKeepAlive        = 5 * time.Second
	DefaultMaxUDPPayload    = 1472
	DefaultDatagramFrame    = 65535
	DefaultActiveCIDLimit   = 5
	DefaultKeyUpdatePackets = 1 << 22 // well below AES-GCM's 2^23 confidentiality limit
	maxDatagramQueue        = 128
)

// Config sets up a connection. Zero fields select the defaults above.
type Config struct {
	TLS *handshake.Config // identity, ALPN, expected peer key, key log

	IdleTimeout time.Duration // max_idle_timeout; negative disables
	KeepAlive   time.Duration // PING after this much send silence; negative disables
	Streams     streams.Config
	// DisableDatagrams stops us from advertising max_datagram_frame_size.
	DisableDatagrams bool
	// KeyUpdateInterval is how many 1-RTT packets we send per key phase
	// before initiating a key update (tests set it low to force updates).
	KeyUpdateInterval uint64
	MaxUDPPayload     uint64
	InitialRTT        time.Duration
	Rand              io.Reader // nil: crypto/rand
	ResetKey          *ResetKey // derives stateless reset tokens; nil: random
	// Multipath advertises initial_max_path_id (7, as iroh) and, when the
	// peer advertised it too, runs the connection under multipath rules.
	Multipath bool
	// NatTraversal advertises n0 NAT traversal (with Multipath): the
	// server announces candidate addresses, the client punches holes to
	// them and opens paths where a probe got through.
	NatTraversal bool
	// NatAddresses gives a server's current candidates: announced
	// (ADD_ADDRESS) as soon as NAT traversal is negotiated, in 1-RTT
	// packets of the server's first flight, so the client knows them when
	// its handshake completes instead of a round trip later. It is called
	// once per connection and must be safe for concurrent use.
	NatAddresses func() []netip.AddrPort
	// NatLoopbackTargets lets hole punching probe loopback candidates of a
	// peer that is not on loopback itself: set it when our socket is bound
	// to loopback, where no other candidate can work.
	NatLoopbackTargets bool
	// PathIdleTimeout abandons a multipath path silent this long; zero
	// means 15 s (iroh's), negative disables.
	PathIdleTimeout time.Duration
	// AddressDiscovery is our QAD role (addrdisc.go); off by default.
	AddressDiscovery AddressDiscoveryRole
	// NoIncomingStreams advertises initial_max_streams_bidi/uni of 0 (a
	// QAD endpoint carries no application data).
	NoIncomingStreams bool
	// NoIncomingBidiStreams and NoIncomingUniStreams do the same for one
	// stream type (a protocol that needs none of that type).
	NoIncomingBidiStreams, NoIncomingUniStreams bool
	// DisablePMTUD keeps every path at 1200-byte datagrams instead of
	// probing for a larger MTU (DPLPMTUD, on by default as in iroh).
	DisablePMTUD bool
	// MTUUpperBound is the largest UDP payload PMTUD probes for; zero
	// means DefaultMTUUpperBound (1452, iroh's).
	MTUUpperBound int
	// CheckPayloads re-parses every packet's frames before sealing and
	// panics on a malformed payload. Tests set it; it costs a parse per
	// packet.
	CheckPayloads bool
}

func (c *Config) idleTimeout() time.Duration {
	switch {
	case c.IdleTimeout < 0:
		return 0
	case c.IdleTimeout == 0:
		return DefaultIdleTimeout
	}
	return c.IdleTimeout
}

func (c *Config) keepAlive() time.Duration {
	switch {
	case c.KeepAlive < 0:
		return 0
	case c.KeepAlive == 0:
		return DefaultKeepAlive
	}
	return c.KeepAlive
}

type connState uint8

const (
	stateHandshake connState = iota
	stateEstablished
	stateClosing  // we sent CONNECTION_CLOSE and repeat it on input
	stateDraining // the peer closed; we stay silent
	stateClosed
)

// Conn is one QUIC connection.
type Conn struct {
	side  Side
	cfg   Config
	rand  io.Reader
	state connState
	err   error // why the connection closed

	tls          *handshake.Conn
	confirmed    bool // handshake confirmed (RFC 9001 §4.1.2)
	handshakeOut bool // server owes HANDSHAKE_DONE
	params       transportParams
	initial      initialState
	earlyApp     []earlyApp // server: 1-RTT packets before it could read them

	keys   [handshakeLevels]levelKeys // Initial and Handshake; 1-RTT keys are app
	app    appKeys
	crypto [numLevels]struct {
		send cryptoSend
		recv cryptoRecv
	}

	paths pathList
	mp    *multipath     // nil until multipath is negotiated
	nat   *natTraversal  // nil until NAT traversal is negotiated
	qad   *addrDiscovery // nil until an address report is owed or received
	cids  cidState

	streams     *streams.Manager
	ackProgress bool // stream data was acknowledged since TakeAckProgress
	dgrams      datagramQueue

	live    liveness
	closing closeState
	events  []Event
	stats   Stats
	records recordPool
	bufs    frameBufs
	// checkPayload vets each payload before it is sealed
	// (Config.CheckPayloads); nil in production.
	checkPayload func(l level, payload []byte)
}

// transportParams are both sides' transport parameters.
type transportParams struct {
	local, peer wire.TransportParameters
	havePeer    bool
}

// initialState is what the first flights settle: the connection IDs the
// peers authenticate (RFC 9000 §7.3) and a Retry. origDCID is the client's
// first DCID, which seeds the Initial keys and is echoed by the server in
// its parameters.
type initialState struct {
	origDCID  []byte
	retrySCID []byte
	token     []byte // Retry token the client must echo
	gotRetry  bool
	gotServer bool // client: processed a packet from the server
}

// closeState is the connection close in progress (RFC 9000 §10.2).
type closeState struct {
	frame    *wire.Frame // our CONNECTION_CLOSE
	sentAt   time.Time
	deadline time.Time // the closing or draining period ends
	repeat   bool      // a packet arrived while closing: send the frame again
}

// frameBufs are scratch buffers for building and parsing frames.
type frameBufs struct {
	payload    []byte
	wireRanges []wire.AckRange
	recRanges  []recovery.AckRange
	builder    packetBuilder // reused, so that building a packet allocates nothing
}

// Stats are counters for diagnostics.
type Stats struct {
	PacketsSent, PacketsReceived, PacketsLost uint64
	BytesSent, BytesReceived                  uint64
	KeyUpdates                                uint64
	KeyUpdatesInitiated                       uint64 // the KeyUpdates we started (the rest followed the peer)
	PathCIDsBlocked                           uint64 // PATH_CIDS_BLOCKED frames received
	PathAcksSent, PathAcksReceived            uint64 // multipath only
	SmoothedRTT, MinRTT                       time.Duration
	CongestionWindow                          int
	// MaxDatagramSize is the current MTU (UDP payload size) of the data
	// path; it starts at 1200 and grows as PMTU probes are acknowledged.
	MaxDatagramSize                          int
	MTUProbesSent, MTUProbesLost, BlackHoles uint64
	// Migrations counts peer address changes we validated; failed ones
	// (we went back to the old address) are MigrationsReverted.
	Migrations, MigrationsReverted uint64
}

func newConn(side Side, cfg *Config, now time.Time, remote Addr, localCID, remoteCID []byte) (*Conn, error) {
	if cfg == nil || cfg.TLS == nil {
		return nil, errors.New("core: Config.TLS is required")
	}
	c := &Conn{side: side, cfg: *cfg, rand: cfg.Rand}
	c.cids.reissue = newReissueBudget()
	if cfg.CheckPayloads {
		c.checkPayload = checkFrames
	}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	key := cfg.ResetKey
	if key == nil {
		key = new(ResetKey)
		if _, err := io.ReadFull(c.rand, key[:]); err != nil {
			return nil, err
		}
	}
	if c.cfg.KeyUpdateInterval == 0 {
		c.cfg.KeyUpdateInterval = DefaultKeyUpdatePackets
	}
	if c.cfg.MaxUDPPayload == 0 {
		c.cfg.MaxUDPPayload = DefaultMaxUDPPayload
	}
	ss := streams.Client
	if side == Server {
		ss = streams.Server
	}
	c.streams = streams.NewManager(ss, cfg.Streams)
	c.paths = []*path{newPath(remote, side, cfg.InitialRTT)}
	c.paths[0].mtu.enabled = !cfg.DisablePMTUD
	c.cids.resetKey = key
	c.paths[0].local = newLocalCIDs(c.rand, key, localCID)
	c.paths[0].remote = newRemoteCIDs(DefaultActiveCIDLimit, remoteCID)
	c.live.lastActivity = now
	c.live.idleTimeout = c.cfg.idleTimeout()
	return c, nil
}

// NewClient starts a client connection to remote. The first PollTransmit
// returns the Initial with the ClientHello.
func NewClient(cfg *Config, now time.Time, remote Addr) (*Conn, error) {
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	scid := make([]byte, LocalCIDLen)
	dcid := make([]byte, 16) // ≥ 8 bytes: noq drops shorter client DCIDs
	if _, err := io.ReadFull(rnd, scid); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rnd, dcid); err != nil {
		return nil, err
	}
	c, err := newConn(Client, cfg, now, remote, scid, dcid)
	if err != nil {
		return nil, err
	}
	c.initial.origDCID = dcid
	c.keys[levelInitial] = initialLevelKeys(Client, dcid)
	if err := c.startTLS(); err != nil {
		return nil, err
	}
	return c, nil
}

// NewServer accepts a connection whose first Initial carried odcid and scid
// (the client's chosen DCID and its own SCID). The caller routes by localCID.
func NewServer(cfg *Config, now time.Time, remote Addr, odcid, clientSCID, localCID []byte) (*Conn, error) {
	return newServer(cfg, now, remote, odcid, nil, clientSCID, localCID)
}

// NewServerRetry accepts a connection after the endpoint sent a Retry:
// odcid is the DCID of the client's first Initial (recovered from the
// validated token) and retrySCID the SCID of our Retry, which the client now
// uses as its DCID. The client's address counts as validated.
func NewServerRetry(cfg *Config, now time.Time, remote Addr, odcid, retrySCID, clientSCID, localCID []byte) (*Conn, error) {
	return newServer(cfg, now, remote, odcid, retrySCID, clientSCID, localCID)
}

func newServer(cfg *Config, now time.Time, remote Addr, odcid, retrySCID, clientSCID, localCID []byte) (*Conn, error) {
	c, err := newConn(Server, cfg, now, remote, localCID, clientSCID)
	if err != nil {
		return nil, err
	}
	c.initial.origDCID = append([]byte(nil), odcid...)
	keyDCID := odcid
	if retrySCID != nil {
		c.initial.retrySCID = append([]byte(nil), retrySCID...)
		c.paths[0].validated = true
		keyDCID = retrySCID
	}
	c.keys[levelInitial] = initialLevelKeys(Server, keyDCID)
	if err := c.startTLS(); err != nil {
		return nil, err
	}
	return c, nil
}

// startTLS builds our transport parameters and starts the handshake engine.
func (c *Conn) startTLS() error {
	tp := wire.DefaultTransportParameters()
	tp.MaxAckDelay = uint64(recovery.LocalMaxAckDelay / time.Millisecond) // what our ACK trackers keep to
	tp.InitialSourceConnectionID, tp.HasInitialSourceConnectionID = append([]byte(nil), c.paths[0].local.active[0].id[:]...), true
	if c.side == Server {
		tp.OriginalDestinationConnectionID, tp.HasOriginalDestinationConnectionID = c.initial.origDCID, true
		tp.StatelessResetToken, tp.HasStatelessResetToken = c.paths[0].local.active[0].token, true
		if c.initial.retrySCID != nil {
			tp.RetrySourceConnectionID, tp.HasRetrySourceConnectionID = c.initial.retrySCID, true
		}
	}
	tp.MaxIdleTimeout = uint64(c.live.idleTimeout / time.Millisecond)
	tp.MaxUDPPayloadSize = c.cfg.MaxUDPPayload
	tp.ActiveConnectionIDLimit = DefaultActiveCIDLimit
	if !c.cfg.DisableDatagrams {
		tp.MaxDatagramFrameSize = DefaultDatagramFrame
	}
	if c.cfg.Multipath {
		tp.InitialMaxPathID, tp.HasInitialMaxPathID = InitialMaxPathID, true
		if c.cfg.NatTraversal {
			tp.MaxRemoteNATAddresses = NatAddressLimit
		}
	}
	fc := c.streams.LocalParams()
	tp.InitialMaxData = fc.InitialMaxData
	tp.InitialMaxStreamDataBidiLocal = fc.InitialMaxStreamDataBidiLocal
	tp.InitialMaxStreamDataBidiRemote = fc.InitialMaxStreamDataBidiRemote
	tp.InitialMaxStreamDataUni = fc.InitialMaxStreamDataUni
	tp.InitialMaxStreamsBidi = fc.InitialMaxStreamsBidi
	tp.InitialMaxStreamsUni = fc.InitialMaxStreamsUni
	if c.cfg.refusesIncoming(false) {
		tp.InitialMaxStreamsBidi = 0
	}
	if c.cfg.refusesIncoming(true) {
		tp.InitialMaxStreamsUni = 0
	}
	setAddrDiscoveryParam(&tp, c.cfg.AddressDiscovery)
	c.params.local = tp

	tc := *c.cfg.TLS
	tc.TransportParameters = tp.Marshal(nil)
	if tc.Rand == nil {
		tc.Rand = c.rand
	}
	var err error
	if c.side == Client {
		c.tls, err = handshake.NewClient(&tc)
	} else {
		c.tls, err = handshake.NewServer(&tc)
	}
	if err != nil {
		return err
	}
	if err := c.tls.Start(); err != nil {
		return err
	}
	return tlsEvents{c, time.Time{}}.drain()
}

// Side reports whether this is the client or the server.
func (c *Conn) Side() Side { return c.side }

// HandshakeDoneOwed: a server completed its handshake and has yet to send
// HANDSHAKE_DONE, which the client waits for before it takes packets
// from new addresses; a driver may send before handling more input.
func (c *Conn) HandshakeDoneOwed() bool { return c.handshakeOut }

// HandshakeComplete reports whether the TLS handshake finished.
func (c *Conn) HandshakeComplete() bool { return c.tls.State().Complete }

// TLSState returns what the handshake negotiated (peer key, ALPN, suite).
func (c *Conn) TLSState() handshake.ConnectionState { return c.tls.State() }

// ExportKeyingMaterial is RFC 8446 §7.5 on this connection's handshake.
func (c *Conn) ExportKeyingMaterial(label string, context []byte, n int) ([]byte, error) {
	return c.tls.ExportKeyingMaterial(label, context, n)
}

// IsClosed reports whether the connection has fully ended.
func (c *Conn) IsClosed() bool { return c.state == stateClosed }

// Err is why the connection closed, or nil while it is open.
func (c *Conn) Err() error {
	if c.state < stateClosing {
		return nil
	}
	return c.err
}

// RemoteAddr is the address of the path carrying application data.
func (c *Conn) RemoteAddr() Addr { return c.paths.primary().addr }

// LocalCIDs returns every connection ID the peer may currently use for us.
func (c *Conn) LocalCIDs() [][LocalCIDLen]byte {
	if c.mp == nil {
		return c.paths[0].local.ids()
	}
	var out [][LocalCIDLen]byte
	for _, s := range c.mp.sets {
		out = append(out, s.local.ids()...)
	}
	return out
}

// Stats returns a snapshot of the connection's counters; the estimates
// are those of the path carrying application data.
func (c *Conn) Stats() Stats {
	s := c.stats
	p := c.paths.primary()
	s.SmoothedRTT = p.rec.RTT().Smoothed()
	s.MinRTT = p.rec.RTT().Min()
	s.CongestionWindow = p.rec.Congestion().Window()
	s.MaxDatagramSize = p.rec.MaxDatagramSize()
	return s
}

// confirm marks the handshake confirmed and drops the Handshake keys.
func (c *Conn) confirm(now time.Time) {
	if c.confirmed {
		return
	}
	c.confirmed = true
	c.dropLevel(levelHandshake, now)
	c.paths[0].rec.SetHandshakeConfirmed(now)
}

// dropLevel discards the keys and recovery state of Initial or Handshake.
func (c *Conn) dropLevel(l level, now time.Time) {
	if c.keys[l].discarded {
		return
	}
	c.keys[l] = levelKeys{discarded: true}
	c.crypto[l].recv.buf.Release()
	for _, sp := range c.paths[0].rec.DiscardSpace(l.space(), now) {
		c.records.put(sp.Payload)
	}
}

// protectionSuite converts a TLS suite id for the protection package.
func protectionSuite(id uint16) protection.Suite { return protection.Suite(id) }

// isSeqZero reports whether id is the peer's CID of sequence number 0.
func (r *remoteCIDs) isSeqZero(id []byte) bool {
	for _, r := range r.ids {
		if r.seq == 0 {
			return string(r.id) == string(id)
		}
	}
	return false
}
