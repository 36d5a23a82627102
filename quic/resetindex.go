package quic

import "github.com/alkdev/irohspoke/quic/internal/core"

// The endpoint indexes its peers' stateless reset tokens so a datagram it
// cannot route costs one map look-up, not a comparison per connection
// (RFC 9000 §10.3.1). The index is guarded by the endpoint's mu.

// resetTarget returns the connection whose peer's reset token ends b.
func (e *Endpoint) resetTarget(b []byte) *Conn {
	if len(b) < minResetSize {
		return nil
	}
	var t core.ResetToken
	copy(t[:], b[len(b)-len(t):])
	e.mu.Lock()
	c := e.resetIdx[t]
	e.mu.Unlock()
	return c
}

// syncResetTokensLocked re-indexes c's tokens after the core reported a
// change. c.mu is held.
func (c *Conn) syncResetTokensLocked() {
	fresh := c.core.AppendResetTokens(nil)
	e := c.ep
	e.mu.Lock()
	e.dropResetTokensLocked(c, c.resetTokens)
	for _, t := range fresh {
		e.resetIdx[t] = c
	}
	e.mu.Unlock()
	c.resetTokens = fresh
}

// dropResetTokensLocked forgets c's tokens. e.mu is held.
func (e *Endpoint) dropResetTokensLocked(c *Conn, tokens []core.ResetToken) {
	for _, t := range tokens {
		if e.resetIdx[t] == c {
			delete(e.resetIdx, t)
		}
	}
}
