package quic

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

// Multipath (draft-ietf-quic-multipath, as iroh 1.0 speaks it) is opt-in
// with Config.Multipath. Once both ends advertised it and the handshake
// completed, a connection may run over several network paths at once, each
// with its own connection IDs and packet numbers. Only the client opens
// paths (OpenPath); the server accepts them. Application data goes on a
// validated Available path, and on a Backup path only when no Available one
// is usable. To reach IPv4 and IPv6 addresses from one Endpoint, listen on
// a dual-stack address such as "[::]:0".

// PathID identifies a path of a multipath connection; 0 is the path of the
// handshake.
type PathID = core.PathID

// PathStatus is a path's preference for carrying application data.
type PathStatus = core.PathStatus

// Path statuses.
const (
	PathAvailable = core.PathAvailable
	PathBackup    = core.PathBackup
)

// PathInfo describes one path: its ID and remote address, our status for
// it and the peer's, whether a PATH_RESPONSE validated it, whether it was
// abandoned (it lingers while it drains), and its smoothed RTT.
type PathInfo = core.PathInfo

// PATH_ABANDON error codes for ClosePath.
const (
	// AbandonPathApplication is what iroh uses to close a path.
	AbandonPathApplication uint64 = core.ApplicationAbandonPath
	// AbandonPathUnstable: the path timed out or failed validation.
	AbandonPathUnstable uint64 = core.PathUnstableOrPoor
)

// Path errors.
var (
	// ErrMigrateMultipath: Migrate on a multipath connection.
	ErrMigrateMultipath = core.ErrMigrateMultipath
	// ErrActiveMigrationDisabled: the peer sent disable_active_migration.
	ErrActiveMigrationDisabled = core.ErrActiveMigrationDisabled
	// ErrNoSpareCID: the peer gave us no unused connection ID to migrate with.
	ErrNoSpareCID = core.ErrNoSpareCID
	// ErrMultipathNotNegotiated: one end did not enable multipath.
	ErrMultipathNotNegotiated = core.ErrMultipathNotNegotiated
	// ErrServerCannotOpenPath: only the client opens paths.
	ErrServerCannotOpenPath = core.ErrServerCannotOpenPath
	// ErrPathLimit: the peer allows no more concurrent paths right now.
	ErrPathLimit = core.ErrPathLimit
	// ErrUnknownPath: no open path has this ID.
	ErrUnknownPath = core.ErrUnknownPath
	// ErrLastPath: ClosePath refuses to close the last open path.
	ErrLastPath = core.ErrLastPath
	// ErrNoViablePath: every path was abandoned and none replaced it.
	ErrNoViablePath = core.ErrNoViablePath
	// ErrPathAbandoned: the path failed validation or was abandoned
	// before it was validated.
	ErrPathAbandoned = errors.New("quic: path abandoned before validation")
)

// cidRetry is how long OpenPath waits for the peer's connection IDs for
// the next path before asking again (iroh's interval).
const cidRetry = 333 * time.Millisecond

// OpenPath opens a new path to addr and blocks until it is validated, it
// fails, or ctx ends. Client connections only, with multipath negotiated.
// The new path starts Available; use SetPathStatus to change that.
func (c *Conn) OpenPath(ctx context.Context, addr Addr) (PathID, error) {
	var id PathID
	for {
		c.mu.Lock()
		var err error
		id, err = c.core.OpenPath(time.Now(), addr)
		if err == nil {
			c.pathWait[id] = nil
		}
		c.mu.Unlock()
		c.wake()
		if err == nil {
			break
		}
		if !errors.Is(err, core.ErrPathCIDsBlocked) {
			return 0, err
		}
		// PATH_CIDS_BLOCKED went out; the peer's CIDs are probably in flight.
		select {
		case <-time.After(cidRetry):
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-c.closedCh:
			return 0, c.Err()
		}
	}
	for {
		c.mu.Lock()
		res, done := c.pathWait[id], c.pathDone(id)
		if done {
			delete(c.pathWait, id)
		}
		c.mu.Unlock()
		if done {
			return id, res
		}
		select {
		case <-c.pathSig:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-c.closedCh:
			return 0, c.Err()
		}
	}
}

// pathDone reports whether OpenPath's wait for id is over. c.mu is held.
func (c *Conn) pathDone(id PathID) bool {
	if c.pathWait[id] != nil {
		return true
	}
	for _, p := range c.core.Paths() {
		if p.ID == id {
			return p.Validated
		}
	}
	c.pathWait[id] = ErrPathAbandoned
	return true
}

// onPathEventLocked wakes OpenPath callers. c.mu is held.
func (c *Conn) onPathEventLocked(ev core.Event) {
	switch ev.Kind {
	case core.EventPathAbandoned:
		if _, waiting := c.pathWait[ev.Path]; waiting {
			c.pathWait[ev.Path] = ErrPathAbandoned
		}
		c.log.Debug("path abandoned", "path", ev.Path, "code", ev.Code, "remote", ev.Remote)
	case core.EventPathValidated:
		c.log.Debug("path validated", "path", ev.Path)
	case core.EventPathOpened:
		c.log.Debug("peer opened path", "path", ev.Path)
	case core.EventPathStatus:
		c.log.Debug("peer set path status", "path", ev.Path, "status", ev.Status)
	case core.EventPeerRecheck:
		c.log.Debug("peer rechecks path", "path", ev.Path)
	case core.EventNatAddresses:
		c.log.Debug("peer candidates", "addrs", len(c.core.NatTraversal().RemoteAddresses()))
	}
	signal(c.pathSig)
	c.pathsChangedLocked()
}

// Paths describes the connection's paths (one without multipath).
func (c *Conn) Paths() []PathInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.Paths()
}

// Multipath reports whether multipath was negotiated.
func (c *Conn) Multipath() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.Multipath()
}

// SetPathStatus marks a path Available (it carries data) or Backup (it
// carries data only when no Available path is usable) and tells the peer.
func (c *Conn) SetPathStatus(id PathID, available bool) error {
	c.mu.Lock()
	before := c.pathStatusLocked(id)
	err := c.core.SetPathStatus(id, available)
	if err == nil && c.pathStatusLocked(id) != before {
		c.pathsChangedLocked() // our own status change is a path event too
	}
	c.mu.Unlock()
	c.wake()
	return err
}

// pathStatusLocked is our status of path id (zero if unknown). c.mu is held.
func (c *Conn) pathStatusLocked(id PathID) PathStatus {
	for _, p := range c.core.Paths() {
		if p.ID == id {
			return p.Status
		}
	}
	return 0
}

// Migrate moves a single-path client connection to the local address its
// socket now sends from, after a network change (active migration, RFC
// 9000 §9.2): a fresh connection ID, congestion control and RTT estimate
// started afresh, and a PATH_CHALLENGE to prove the new path. It fails
// with ErrMigrateMultipath under multipath (open a path instead),
// ErrActiveMigrationDisabled when the peer forbids it and ErrNoSpareCID
// without an unused connection ID; the connection is then unchanged and
// the peer may still follow the new address by itself.
func (c *Conn) Migrate() error {
	c.mu.Lock()
	err := c.core.Migrate(time.Now())
	c.mu.Unlock()
	c.wake()
	return err
}

// ClosePath abandons a path with a PATH_ABANDON error code, such as
// AbandonPathApplication. The last open path cannot be closed; close the
// connection instead.
func (c *Conn) ClosePath(id PathID, code uint64) error {
	c.mu.Lock()
	err := c.core.ClosePath(time.Now(), id, code)
	c.mu.Unlock()
	c.wake()
	return err
}

// NAT traversal (n0's, iroh's hole punching) is opt-in with
// Config.NatTraversal on top of Config.Multipath. The server announces its
// candidate addresses with AddNatAddress; the client learns them
// (NatRemoteAddresses) and starts rounds with StartNatTraversalRound,
// listing its own candidates. Both sides then probe; where a probe gets
// through, the client opens a Backup path (see Paths).

// Errors of the NAT traversal calls.
var (
	// ErrNatTraversalNotNegotiated: one end did not enable it.
	ErrNatTraversalNotNegotiated = core.ErrNatTraversalNotNegotiated
	// ErrNatWrongSide: a client-only call on a server or the reverse.
	ErrNatWrongSide = core.ErrNatWrongSide
	// ErrNatAddressLimit: the client accepts no more server candidates.
	ErrNatAddressLimit = core.ErrNatAddressLimit
)

// NatTraversal reports whether n0 NAT traversal was negotiated.
func (c *Conn) NatTraversal() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.NatTraversal().Negotiated()
}

// AddNatAddress announces one of our candidate addresses (server side).
func (c *Conn) AddNatAddress(ap netip.AddrPort) error {
	c.mu.Lock()
	err := c.core.NatTraversal().AddAddress(ap)
	c.mu.Unlock()
	c.wake()
	return err
}

// RemoveNatAddress withdraws an announced candidate (server side).
func (c *Conn) RemoveNatAddress(ap netip.AddrPort) error {
	c.mu.Lock()
	err := c.core.NatTraversal().RemoveAddress(ap)
	c.mu.Unlock()
	c.wake()
	return err
}

// NatLocalAddresses returns the candidates this server connection
// announced and has not withdrawn.
func (c *Conn) NatLocalAddresses() []netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.NatTraversal().LocalAddresses()
}

// NatRemoteAddresses returns the server's candidates (client side).
func (c *Conn) NatRemoteAddresses() []netip.AddrPort {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.NatTraversal().RemoteAddresses()
}

// StartNatTraversalRound starts a hole-punching round toward the server's
// candidates, telling it ours (client side). It returns at once; paths
// that get through appear in Paths as Backup paths.
func (c *Conn) StartNatTraversalRound(local []netip.AddrPort) error {
	c.mu.Lock()
	err := c.core.NatTraversal().StartRound(time.Now(), local)
	c.mu.Unlock()
	c.wake()
	return err
}
