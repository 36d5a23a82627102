package core

import (
	"errors"
	"io"
	"time"
)

// Active migration (RFC 9000 §9.2, §9.5) of a single-path client whose own
// address changed: instead of leaving the server to notice a new source
// address under the old connection ID (which links the two addresses),
// the client moves itself. It switches to a connection ID the server has
// not seen yet, starts the congestion controller and RTT estimate afresh
// (§9.4; the old ones are kept), and proves the new path with a
// PATH_CHALLENGE, sending a PING as well so that the server, seeing a
// non-probing packet from the new address, follows at once. On the
// PATH_RESPONSE the migration is done; without one within three PTOs the
// old estimates come back (migrationTimeout). Data keeps flowing all the
// while: the old address is gone, there is nowhere else to send it.
//
// Under multipath a client opens a new path instead (OpenPath).

// Errors of Migrate.
var (
	ErrServerCannotMigrate     = errors.New("quic: only the client migrates actively")
	ErrMigrateMultipath        = errors.New("quic: a multipath connection opens a new path instead of migrating")
	ErrActiveMigrationDisabled = errors.New("quic: the peer disabled active migration")
	ErrNoSpareCID              = errors.New("quic: no unused connection ID from the peer to migrate with")
	ErrMigrateRelay            = errors.New("quic: a relayed path does not migrate")
)

// Migrate moves a single-path client connection to a new local address
// (which the socket already uses). ErrNoSpareCID and
// ErrActiveMigrationDisabled leave the connection as it was: the server
// may still follow the new address by itself (NAT rebinding rules).
func (c *Conn) Migrate(now time.Time) error {
	if err := c.usable(); err != nil {
		return err
	}
	p := c.paths[0]
	switch {
	case c.side == Server:
		return ErrServerCannotMigrate
	case c.mp != nil:
		return ErrMigrateMultipath
	case !c.confirmed:
		return ErrNotEstablished // not before the handshake is confirmed (§9)
	case c.params.peer.DisableActiveMigration:
		return ErrActiveMigrationDisabled
	case p.addr.IsRelay():
		return ErrMigrateRelay
	}
	if len(p.remote.ids) < 2 {
		return ErrNoSpareCID
	}
	if err := c.cids.queueRetire(pathSeq{seq: p.remote.ids[0].seq}); err != nil {
		return err
	}
	p.remote.rotate()
	c.cids.tokensChanged = true
	oldPTO := p.rec.ProbeTimeout()
	if p.mig == nil {
		p.mig = &migration{prevAddr: p.addr, prevMTU: *p.mtu, prevCC: p.rec.ResetCongestion(), ccReset: true}
	} else {
		p.rec.ResetCongestion() // moved again before validating: keep the first saved state
	}
	p.mtu.reset()
	p.rec.SetMaxDatagramSize(MinMTU)
	p.pacedUntil = time.Time{}
	m := p.mig
	io.ReadFull(c.rand, m.challenge[:])
	m.challengeOut, m.challengeAt = true, time.Time{}
	m.validateBy = now.Add(3 * max(oldPTO, p.rec.ProbeTimeout()))
	c.live.sendPing = true
	return nil
}
