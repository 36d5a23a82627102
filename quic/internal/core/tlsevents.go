package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/streams"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// tlsEvents applies the handshake engine's events at now: CRYPTO data to
// send, new secrets, the peer's transport parameters and completion.
type tlsEvents struct {
	c   *Conn
	now time.Time
}

// drain applies every pending event.
func (e tlsEvents) drain() error {
	c := e.c
	for {
		ev := c.tls.NextEvent()
		switch ev.Kind {
		case handshake.EventNone:
			return nil
		case handshake.EventWriteData:
			c.crypto[levelOfTLS(ev.Level)].send.write(ev.Data)
		case handshake.EventSetReadSecret, handshake.EventSetWriteSecret:
			if err := e.installSecret(ev); err != nil {
				return err
			}
		case handshake.EventTransportParameters:
			if err := e.peerParams(ev.Data); err != nil {
				return err
			}
		case handshake.EventHandshakeComplete:
			e.complete()
		}
	}
}

// installSecret derives the keys of a secret the handshake produced.
func (e tlsEvents) installSecret(ev handshake.Event) error {
	c, now := e.c, e.now
	suite := protectionSuite(ev.Suite)
	read := ev.Kind == handshake.EventSetReadSecret
	switch ev.Level {
	case handshake.LevelHandshake:
		k, err := protection.NewKeys(suite, ev.Secret)
		if err != nil {
			return err
		}
		lk := &c.keys[levelHandshake]
		if read {
			lk.read, lk.canRead = k, true
		} else {
			lk.write, lk.canWrite = k, true
			c.paths[0].rec.SetHandshakeKeys(now)
		}
	case handshake.LevelApplication:
		k, err := protection.NewKeys(suite, ev.Secret)
		if err != nil {
			return err
		}
		if read {
			c.app.read, c.app.readHP, c.app.canRead = k.Packet, k.Header, true
			next, err := k.Packet.Next()
			if err != nil {
				return err
			}
			c.app.next = next
		} else {
			c.app.write, c.app.writeHP, c.app.canWrite = k.Packet, k.Header, true
			if c.side == Server {
				c.startExtensions(now)
			}
		}
	}
	return nil
}

// peerParams checks and adopts the peer's transport parameters.
func (e tlsEvents) peerParams(b []byte) error {
	c := e.c
	from := wire.RoleServer
	if c.side == Server {
		from = wire.RoleClient
	}
	tp, err := wire.UnmarshalTransportParameters(b, from)
	if err != nil {
		return err
	}
	// Authenticate the connection IDs (RFC 9000 §7.3).
	if !tp.HasInitialSourceConnectionID || string(tp.InitialSourceConnectionID) != string(c.paths[0].remote.active()) && !c.paths[0].remote.isSeqZero(tp.InitialSourceConnectionID) {
		return &wire.TransportError{Code: wire.TransportParameterError, Reason: "initial_source_connection_id mismatch"}
	}
	if c.side == Client {
		if !tp.HasOriginalDestinationConnectionID || string(tp.OriginalDestinationConnectionID) != string(c.initial.origDCID) {
			return &wire.TransportError{Code: wire.TransportParameterError, Reason: "original_destination_connection_id mismatch"}
		}
		if c.initial.gotRetry != tp.HasRetrySourceConnectionID || (c.initial.gotRetry && string(tp.RetrySourceConnectionID) != string(c.initial.retrySCID)) {
			return &wire.TransportError{Code: wire.TransportParameterError, Reason: "retry_source_connection_id mismatch"}
		}
		if tp.HasStatelessResetToken {
			c.paths[0].remote.setInitialToken(tp.StatelessResetToken)
			c.cids.tokensChanged = true
		}
	}
	c.params.peer, c.params.havePeer = tp, true
	c.qad = newAddrDiscovery(c.cfg.AddressDiscovery, &tp)
	if tp.MaxIdleTimeout > 0 {
		peer := time.Duration(tp.MaxIdleTimeout) * time.Millisecond
		if c.live.idleTimeout == 0 || peer < c.live.idleTimeout {
			c.live.idleTimeout = peer
		}
	}
	c.dgrams.peerMax = tp.MaxDatagramFrameSize
	c.paths[0].rec.SetPeerMaxAckDelay(time.Duration(tp.MaxAckDelay) * time.Millisecond)
	c.streams.SetPeerParams(streams.PeerParams{
		InitialMaxData:                 tp.InitialMaxData,
		InitialMaxStreamDataBidiLocal:  tp.InitialMaxStreamDataBidiLocal,
		InitialMaxStreamDataBidiRemote: tp.InitialMaxStreamDataBidiRemote,
		InitialMaxStreamDataUni:        tp.InitialMaxStreamDataUni,
		InitialMaxStreamsBidi:          tp.InitialMaxStreamsBidi,
		InitialMaxStreamsUni:           tp.InitialMaxStreamsUni,
	})
	return nil
}

// startExtensions starts multipath and NAT traversal, once the peer's
// transport parameters are in: at completion, or on the server as soon as
// it can send 1-RTT packets, so that its candidates go out with its first
// flight (0.5-RTT data, RFC 9001 §4.1.1).
func (c *Conn) startExtensions(now time.Time) {
	if !c.params.havePeer || c.mp != nil {
		return
	}
	c.mp = startMultipath(&c.cfg, &c.params.peer, c.paths[0], now, c.live.lastSent)
	c.startNatTraversal()
	if c.nat != nil && c.nat.server != nil {
		c.nat.server.flightAt = now
	}
	if c.side == Server && !c.tls.State().Complete {
		c.issueAfterFlight(now)
	}
}

// complete starts the established connection.
func (e tlsEvents) complete() {
	c, now := e.c, e.now
	c.state = stateEstablished
	if c.side == Server {
		// The server's handshake is confirmed once it completes (RFC 9001 §4.1.2).
		c.handshakeOut = true
		c.confirm(now)
	}
	c.startExtensions(now)
	if c.nat != nil && c.nat.server != nil {
		c.nat.server.completedAt = now
	}
	if c.qad != nil && c.qad.reports {
		c.qad.owed[c.paths[0].id] = true // the first report, about path 0
	}
	c.issueFirstCIDs()
	c.emit(Event{Kind: EventHandshakeComplete})
}
