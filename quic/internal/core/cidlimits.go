package core

import (
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// Bounds on the connection ID churn a peer can cause. Each retired CID of
// ours used to be replaced at once, and each CID of the peer's we retire
// owes it a RETIRE_CONNECTION_ID until acknowledged: a peer retiring in a
// loop, or never acknowledging, grew both without limit.
const (
	// maxRetiresUnacked bounds the RETIRE_CONNECTION_IDs queued or in
	// flight; RFC 9000 §5.1.2 asks for at least twice our
	// active_connection_id_limit, this covers a dozen multipath paths.
	maxRetiresUnacked = 128
	// A peer may have cidReissueBurst retirements replaced at once, then
	// one every cidReissueEvery; more wait (the peer keeps at least the
	// CID it uses).
	cidReissueBurst = 32
	cidReissueEvery = 200 * time.Millisecond
)

var errTooManyRetires = &wire.TransportError{Code: wire.ConnectionIDLimitError, Reason: "too many connection IDs to retire"}

// queueRetire owes the peer one RETIRE_CONNECTION_ID, unless it is owed
// or unacknowledged already.
func (c *Conn) queueRetire(ps pathSeq) error {
	if _, dup := c.retiring[ps]; dup {
		return nil
	}
	if len(c.retiring) >= maxRetiresUnacked {
		return errTooManyRetires
	}
	if c.retiring == nil {
		c.retiring = make(map[pathSeq]struct{})
	}
	c.retiring[ps] = struct{}{}
	c.retireCIDs = append(c.retireCIDs, ps)
	return nil
}

// onRetiresAcked forgets retirements the peer acknowledged.
func (c *Conn) onRetiresAcked(acked []pathSeq) {
	for _, ps := range acked {
		delete(c.retiring, ps)
	}
}

// reissueBudget paces replacements of CIDs the peer retired.
type reissueBudget struct {
	tokenBucket
	owed bool // a replacement waits for a token
}

func newReissueBudget() reissueBudget {
	return reissueBudget{tokenBucket: tokenBucket{burst: cidReissueBurst, every: cidReissueEvery}}
}

// replaceRetired issues replacements for retired CIDs if the budget
// allows, else remembers to do so when it does.
func (c *Conn) replaceRetired(now time.Time) {
	if c.reissue.take(now) {
		c.reissue.owed = false
		c.issueCIDs()
		return
	}
	c.reissue.owed = true
}

// reissueTimer reports when owed replacements can go out.
func (c *Conn) reissueTimer(consider func(time.Time)) {
	if c.reissue.owed {
		consider(c.reissue.nextToken())
	}
}

func (c *Conn) reissueTimeout(now time.Time) {
	if c.reissue.owed && !now.Before(c.reissue.nextToken()) {
		c.replaceRetired(now)
	}
}
