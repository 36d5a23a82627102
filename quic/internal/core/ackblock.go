package core

// minSendable is the smallest datagram sender.on builds.
const minSendable = 64

// ackSendable reports whether a due ACK of p can leave now. On a single
// path, p must not be at its amplification limit (a peer address being
// validated after a migration). Under multipath, ACKs of any path travel
// on any validated path (sender.poll), and an unvalidated one carries none
// of its own: some validated path must be below its limit. A due ACK
// nothing can carry must not be a deadline: it would stay in the past
// and the driver would spin until the peer sends again.
func (ps pathList) ackSendable(p *path) bool {
	if ps.single() {
		return p.amplificationBudget() >= minSendable
	}
	for _, q := range ps {
		if q.mp.usable && !q.mp.abandoned && q.remote.usable() && q.amplificationBudget() >= minSendable {
			return true
		}
	}
	return false
}
