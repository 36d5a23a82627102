package core

// minSendable is the smallest datagram transmitOn builds.
const minSendable = 64

// ackSendable reports whether a due ACK of p can leave now: p is not at
// its amplification limit (a peer address being validated after a
// migration), or, under multipath, another validated path can carry it.
// A due ACK nothing can carry must not be a deadline: it would stay in
// the past and the driver would spin until the peer sends again.
func (c *Conn) ackSendable(p *path) bool {
	if p.amplificationBudget() >= minSendable {
		return true
	}
	if c.mp == nil {
		return false
	}
	for _, q := range c.paths {
		if q != p && q.mp.usable && !q.mp.abandoned && q.remote.usable() && q.amplificationBudget() >= minSendable {
			return true
		}
	}
	return false
}
