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

// cidState is the connection-wide connection ID bookkeeping; the CIDs
// themselves belong to paths (path.local, path.remote).
type cidState struct {
	resetKey *ResetKey // derives the reset tokens of our CIDs
	// tokensChanged: the peer's CIDs (and so their reset tokens) changed
	// since the driver last asked.
	tokensChanged bool
	retireOut     []pathSeq            // RETIRE_CONNECTION_IDs owed
	retiring      map[pathSeq]struct{} // retirements owed or unacknowledged
	reissue       reissueBudget
	// firstIssueAt: when a server draws its first CIDs (see
	// issueAfterFlight); firstIssued once they are.
	firstIssueAt time.Time
	firstIssued  bool
}

// queueRetire owes the peer one RETIRE_CONNECTION_ID, unless it is owed
// or unacknowledged already.
func (s *cidState) queueRetire(ps pathSeq) error {
	if _, dup := s.retiring[ps]; dup {
		return nil
	}
	if len(s.retiring) >= maxRetiresUnacked {
		return errTooManyRetires
	}
	if s.retiring == nil {
		s.retiring = make(map[pathSeq]struct{})
	}
	s.retiring[ps] = struct{}{}
	s.retireOut = append(s.retireOut, ps)
	return nil
}

// onRetiresAcked forgets retirements the peer acknowledged.
func (s *cidState) onRetiresAcked(acked []pathSeq) {
	for _, ps := range acked {
		delete(s.retiring, ps)
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
	if c.cids.reissue.take(now) {
		c.cids.reissue.owed = false
		c.issueCIDs()
		return
	}
	c.cids.reissue.owed = true
}

// issueAfterFlight: a server draws its first CIDs just after its first
// flight has left, while it waits for the client's Finished, and sends
// them as 0.5-RTT data with its candidates. With multipath they are
// dozens, each drawn, keyed and registered with the endpoint: done at
// completion, that took longer than the rest of the packet with
// HANDSHAKE_DONE, which the client waits for; sent after that packet,
// they reached a client through the relay after our answer to its probe
// had come direct, and it could not open the path until they did.
func (c *Conn) issueAfterFlight(now time.Time) {
	if !c.cids.firstIssued {
		c.cids.firstIssueAt = now.Add(time.Microsecond)
	}
}

// issueFirstCIDs issues the connection's first CIDs unless it has.
func (c *Conn) issueFirstCIDs() {
	if c.cids.firstIssued {
		return
	}
	c.cids.firstIssued, c.cids.firstIssueAt = true, time.Time{}
	c.issueCIDs()
}

// timer is when owed replacements can go out.
func (b *reissueBudget) timer() time.Time {
	if b.owed {
		return b.nextToken()
	}
	return time.Time{}
}

func (c *Conn) reissueTimeout(now time.Time) {
	if at := c.cids.firstIssueAt; !at.IsZero() && !now.Before(at) {
		c.issueFirstCIDs()
	}
	if c.cids.reissue.owed && !now.Before(c.cids.reissue.nextToken()) {
		c.replaceRetired(now)
	}
}
