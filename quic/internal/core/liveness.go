package core

import "time"

// liveness tracks what the idle timeout (RFC 9000 §10.1) and keep-alives
// go by.
type liveness struct {
	idleTimeout   time.Duration // ours or the peer's, the smaller; 0: none
	lastActivity  time.Time     // last packet received or first ack-eliciting sent after it
	lastSent      time.Time
	lastPoll      time.Time
	sentSinceRecv bool
	sendPing      bool // the next packet carries a PING
}

// received notes an authenticated packet.
func (l *liveness) received(now time.Time) {
	l.lastActivity = now
	l.sentSinceRecv = false
}

// sentEliciting notes an ack-eliciting packet: the first after a receipt
// restarts the idle period.
func (l *liveness) sentEliciting(now time.Time) {
	if !l.sentSinceRecv {
		l.sentSinceRecv = true
		l.lastActivity = now
	}
}

// idleDeadline is when the connection idles out, given the probe timeout:
// never sooner than three PTOs, so a slow path is not mistaken for a dead
// one (RFC 9000 §10.1).
func (l *liveness) idleDeadline(pto time.Duration) time.Time {
	if l.idleTimeout == 0 {
		return time.Time{}
	}
	return l.lastActivity.Add(max(l.idleTimeout, 3*pto))
}
