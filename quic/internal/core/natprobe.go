package core

import (
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/recovery"
)

// natProber sends the PATH_CHALLENGE probes of hole punching, for either
// side, and queues the answers to the peer's probes. Its probes share one
// token bucket, whoever asked for them.
type natProber struct {
	rand       io.Reader
	initialRTT time.Duration // scales the retry delays
	probes     []natProbe
	answers    []offPath
	repeats    []repeatAnswer
	budget     tokenBucket
}

// repeatAnswer is an answer to send again at a later time.
type repeatAnswer struct {
	at time.Time
	op offPath
}

type natProbe struct {
	addr     netip.AddrPort
	token    [8]byte
	attempts int
	next     time.Time
	done     bool
	stale    bool // of the previous round: answerable, never resent
	sends    int  // times sent; an answer to one send times the round trip
	sentAt   time.Time
	soon     []time.Time // early retries, before the regular schedule's
}

// offPath is a packet owed to an address that is not its path's: the
// answer to a probe, with the client's own challenge bundled.
type offPath struct {
	path      uint64
	to        Addr
	response  [8]byte
	challenge bool
	recv      int // size of the datagram that carried the probe
}

// maxNatAnswers caps the answers a peer can make us queue.
const maxNatAnswers = 16

func newNatProber(rand io.Reader, initialRTT time.Duration) natProber {
	return natProber{rand: rand, initialRTT: initialRTT, budget: tokenBucket{burst: natProbeBurst, every: natProbeEvery}}
}

// add schedules probes to ap from at on.
func (n *natProber) add(at time.Time, ap netip.AddrPort) {
	pr := natProbe{addr: ap, next: at}
	io.ReadFull(n.rand, pr.token[:])
	n.probes = append(n.probes, pr)
}

// addSoon is add with early retries at the given times.
func (n *natProber) addSoon(at time.Time, ap netip.AddrPort, soon []time.Time) {
	n.add(at, ap)
	n.probes[len(n.probes)-1].soon = soon
}

// sendOnce registers a probe to ap that goes out now, answered or not,
// and returns its token.
func (n *natProber) sendOnce(now time.Time, ap netip.AddrPort) [8]byte {
	pr := natProbe{addr: ap, attempts: natProbeAttempts, next: now, sends: 1, sentAt: now}
	io.ReadFull(n.rand, pr.token[:])
	n.probes = append(n.probes, pr)
	return pr.token
}

// reset ends the previous round's probes. Its unanswered ones stay
// answerable until the round after, never resent: a late PATH_RESPONSE
// still proves the address reachable, and ignoring it (as noq does) costs
// the new round's round trip. A client starts a round whenever its own
// candidates change, such as a port mapping arriving mid-round.
func (n *natProber) reset() {
	kept := n.probes[:0]
	for _, pr := range n.probes {
		if pr.done || pr.stale {
			continue
		}
		pr.stale, pr.attempts = true, natProbeAttempts
		kept = append(kept, pr)
	}
	n.probes = kept
}

// stop ends the probes to ap.
func (n *natProber) stop(ap netip.AddrPort) {
	for i := range n.probes {
		if n.probes[i].addr == ap {
			n.probes[i].done = true
		}
	}
}

// answered reports whether a PATH_RESPONSE from from with data, received
// at now, answers one of our probes, and marks it done. rtt is the round
// trip when the probe went out once (else 0: the answer could be to any
// send).
func (n *natProber) answered(now time.Time, from Addr, data [8]byte) (ok bool, rtt time.Duration) {
	for i := range n.probes {
		pr := &n.probes[i]
		if pr.token == data && UDPAddr(pr.addr) == from {
			pr.done = true
			if pr.sends == 1 {
				rtt = max(now.Sub(pr.sentAt), 0)
			}
			return true, rtt
		}
	}
	return false, 0
}

// due returns the next probe to send at now, if the budget allows one,
// and schedules its retry.
func (n *natProber) due(now time.Time) (netip.AddrPort, [8]byte, bool) {
	for i := range n.probes {
		pr := &n.probes[i]
		if pr.done || pr.attempts >= natProbeAttempts {
			continue
		}
		regular := !now.Before(pr.next)
		early := len(pr.soon) > 0 && !now.Before(pr.soon[0])
		if !regular && !early {
			continue
		}
		if !n.budget.take(now) {
			break
		}
		if regular {
			pr.next = now.Add(n.retryDelay(pr.attempts))
			pr.attempts++
		}
		// Early retries come on top: they neither use up attempts nor
		// move the regular schedule.
		for len(pr.soon) > 0 && !now.Before(pr.soon[0]) {
			pr.soon = pr.soon[1:]
		}
		pr.sends++
		pr.sentAt = now
		return pr.addr, pr.token, true
	}
	return netip.AddrPort{}, [8]byte{}, false
}

// retryDelay is the wait after probe attempt k (0-based): a tenth of the
// initial RTT, doubling from the second retry, at most 2 s.
func (n *natProber) retryDelay(k int) time.Duration {
	rtt := n.initialRTT
	if rtt == 0 {
		rtt = recovery.DefaultInitialRTT
	}
	base := rtt / 10
	if k == 0 {
		return base
	}
	return min(base<<min(k-1, natMaxBackoff), natMaxInterval)
}

// timer is when the next probe is due, budget permitting.
func (n *natProber) timer() time.Time {
	var next time.Time
	for _, pr := range n.probes {
		if pr.done || pr.attempts >= natProbeAttempts {
			continue
		}
		at := pr.next
		if len(pr.soon) > 0 && pr.soon[0].Before(at) {
			at = pr.soon[0]
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if b := &n.budget; !next.IsZero() && b.empty() && b.nextToken().After(next) {
		next = b.nextToken()
	}
	for _, r := range n.repeats {
		if next.IsZero() || r.at.Before(next) {
			next = r.at
		}
	}
	return next
}

// queueRepeat owes op again at at, within the answers' bound; a probe's
// retries (same token, same address) share their repeats.
func (n *natProber) queueRepeat(at time.Time, op offPath) {
	for _, r := range n.repeats {
		if r.at.Equal(at) && r.op.to == op.to && r.op.response == op.response {
			return
		}
	}
	if len(n.repeats) < maxNatAnswers {
		n.repeats = append(n.repeats, repeatAnswer{at: at, op: op})
	}
}

// releaseRepeats queues the repeats due at now.
func (n *natProber) releaseRepeats(now time.Time) {
	kept := n.repeats[:0]
	for _, r := range n.repeats {
		if now.Before(r.at) {
			kept = append(kept, r)
			continue
		}
		op := r.op
		op.challenge = false // a repeat proves nothing new about us
		n.queueAnswer(op)
	}
	n.repeats = kept
}

// queueAnswer owes op unless too many answers are queued.
func (n *natProber) queueAnswer(op offPath) {
	if len(n.answers) < maxNatAnswers {
		n.answers = append(n.answers, op)
	}
}

// dropAnswersTo forgets the answers and repeats owed to a: the peer
// opened a path from there, so one arrived.
func (n *natProber) dropAnswersTo(a Addr) {
	n.answers = slices.DeleteFunc(n.answers, func(op offPath) bool { return op.to == a })
	n.repeats = slices.DeleteFunc(n.repeats, func(r repeatAnswer) bool { return r.op.to == a })
}

// nextAnswer takes the oldest owed answer.
func (n *natProber) nextAnswer() (offPath, bool) {
	if len(n.answers) == 0 {
		return offPath{}, false
	}
	op := n.answers[0]
	n.answers = n.answers[1:]
	return op, true
}
