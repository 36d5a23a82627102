// Package admission decides, sans-IO, which client Initials may start a
// server connection: it bounds the handshakes in progress, overall and per
// source, and above a threshold makes clients prove their address with a
// Retry first (RFC 9000 §8.1.2). Time is passed in; the driver calls it
// under its own lock.
package admission

import (
	"io"
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

// Defaults for zero Config fields.
const (
	DefaultMaxPending          = 1024
	DefaultMaxPendingPerSource = 64
	DefaultRetryAbove          = 64
	// DefaultTokenLifetime is how long a Retry token is honoured (quinn
	// uses 15 s too); the client answers a Retry at once.
	DefaultTokenLifetime = 15 * time.Second
)

// Config bounds handshakes in progress. Zero fields take the defaults.
type Config struct {
	// MaxPending: handshakes in progress at once; more Initials are dropped.
	MaxPending int
	// MaxPendingPerSource: the same, per source address (its IP).
	MaxPendingPerSource int
	// RetryAbove: from this many handshakes in progress on, a client
	// whose Initial carries no valid token gets a Retry instead of a
	// connection. Negative: always.
	RetryAbove int
	// TokenLifetime bounds how old a Retry token may be.
	TokenLifetime time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxPendingPerSource <= 0 {
		c.MaxPendingPerSource = DefaultMaxPendingPerSource
	}
	if c.RetryAbove == 0 {
		c.RetryAbove = DefaultRetryAbove
	}
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	return c
}

// Verdict is what to do with an Initial.
type Verdict uint8

const (
	Accept Verdict = iota // start a connection
	Retry                 // answer with a Retry (stateless)
	Drop                  // ignore it; the client retransmits
)

// Admission is the verdict on one Initial.
type Admission struct {
	Verdict Verdict
	// With Accept after a Retry: the DCID of the client's first Initial,
	// recovered from the token (its address counts as validated).
	OrigDCID []byte
}

// Gate tracks handshakes in progress. It is not safe for concurrent use.
type Gate struct {
	cfg       Config
	tokens    *tokenSealer
	pending   int
	perSource map[core.Addr]int
}

// New returns a Gate with a fresh token key read from random.
func New(cfg Config, random io.Reader) (*Gate, error) {
	ts, err := newTokenSealer(random)
	if err != nil {
		return nil, err
	}
	return &Gate{cfg: cfg.withDefaults(), tokens: ts, perSource: make(map[core.Addr]int)}, nil
}

// source is the key a sender is counted under: its IP (a client may use
// many ports), or the relay path as a whole.
func source(from core.Addr) core.Addr {
	if from.IsRelay() {
		return from
	}
	return core.UDPAddr(netip.AddrPortFrom(from.UDP.Addr().Unmap(), 0))
}

// Admit decides on an Initial from from whose DCID is dcid (unknown to
// us) and that carries token.
func (g *Gate) Admit(now time.Time, from core.Addr, dcid, token []byte) Admission {
	var odcid []byte
	validated := false
	if len(token) > 0 {
		odcid, validated = g.tokens.open(now, g.cfg.TokenLifetime, from, dcid, token)
	}
	switch {
	case g.pending >= g.cfg.MaxPending, g.perSource[source(from)] >= g.cfg.MaxPendingPerSource:
		return Admission{Verdict: Drop}
	case !validated && g.pending >= g.cfg.RetryAbove:
		return Admission{Verdict: Retry}
	}
	return Admission{Verdict: Accept, OrigDCID: odcid}
}

// RetryToken is the token of a Retry to from, answering an Initial with
// DCID odcid; retrySCID is the Retry's SCID, which the client's next
// Initial uses as its DCID.
func (g *Gate) RetryToken(now time.Time, from core.Addr, odcid, retrySCID []byte) ([]byte, error) {
	return g.tokens.seal(now, from, odcid, retrySCID)
}

// Started counts a handshake from from as in progress.
func (g *Gate) Started(from core.Addr) {
	g.pending++
	g.perSource[source(from)]++
}

// Finished ends a handshake Started with the same address, whether it
// completed or failed.
func (g *Gate) Finished(from core.Addr) {
	s := source(from)
	g.pending--
	if g.perSource[s] <= 1 {
		delete(g.perSource, s)
	} else {
		g.perSource[s]--
	}
}

// Pending is the number of handshakes in progress.
func (g *Gate) Pending() int { return g.pending }
