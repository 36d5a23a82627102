package core

import (
	"net/netip"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// natServer is the server's side of NAT traversal: the candidates we
// announce, and the rounds the client starts.
type natServer struct {
	flightAt    time.Time // when our first flight (with these candidates) was ready
	completedAt time.Time // when our handshake completed (HANDSHAKE_DONE went out)
	// peerConfirmed: the client acknowledged our HANDSHAKE_DONE. early
	// are the answers to its probes sent before that, which it may have
	// dropped.
	peerConfirmed bool
	early         []offPath
	local         []natAddr // our candidates
	nextSeq       uint64
	addOut        []uint64 // ADD_ADDRESS owed, by sequence number
	delOut        []uint64 // REMOVE_ADDRESS owed
	// remoteRound is the highest round the client started, and
	// remoteRoundAddrs its size so far.
	remoteRound      uint64
	remoteRoundAddrs int
	// roundAt is when the current round's probes start; started holds
	// the start times of the last natRoundBurst rounds, oldest first.
	roundAt time.Time
	started []time.Time
}

// addLocal announces ap, within the client's limit.
func (s *natServer) addLocal(ap netip.AddrPort, limit int) error {
	ap = canonical(ap)
	for _, a := range s.local {
		if a.addr == ap {
			return nil
		}
	}
	if len(s.local) >= limit {
		return ErrNatAddressLimit
	}
	s.local = append(s.local, natAddr{seq: s.nextSeq, addr: ap})
	s.addOut = append(s.addOut, s.nextSeq)
	s.nextSeq++
	return nil
}

// untilConfirmed lists when to send again what we send a client at now
// that it may drop: noq drops packets from a new address (our probes, our
// answers to its probes) until our HANDSHAKE_DONE, sent through the relay
// as our handshake completed, confirms its handshake. Without a resend
// the client waits for its probe retry, or ours: tens of milliseconds.
//
// The round trip known then is the one from our first flight to the
// client's Finished: two relay crossings plus the client's handshake
// work. HANDSHAKE_DONE needs one crossing, so the client confirms before
// half of it; how much before, the client's work decides. So the resends
// come at ¼, ⅜, ½, ¾, 1, 1½ and 2 round trips after our completion,
// densest where confirmation is likely, none once past.
func (s *natServer) untilConfirmed(now time.Time) []time.Time {
	if s.peerConfirmed || s.completedAt.IsZero() || s.flightAt.IsZero() {
		return nil
	}
	rtt := s.completedAt.Sub(s.flightAt)
	var out []time.Time
	for _, eighths := range []time.Duration{2, 3, 4, 6, 8, 12, 16} {
		if at := s.completedAt.Add(rtt * eighths / 8); now.Before(at) {
			out = append(out, at)
		}
	}
	return out
}

// removeLocal withdraws ap.
func (s *natServer) removeLocal(ap netip.AddrPort) {
	ap = canonical(ap)
	for i, a := range s.local {
		if a.addr == ap {
			s.local = append(s.local[:i], s.local[i+1:]...)
			s.addOut = dropSeq(s.addOut, a.seq)
			s.delOut = append(s.delOut, a.seq)
			return
		}
	}
}

// localAddrs lists the announced candidates.
func (s *natServer) localAddrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.local))
	for i, a := range s.local {
		out[i] = a.addr
	}
	return out
}

func dropSeq(s []uint64, seq uint64) []uint64 {
	for i, x := range s {
		if x == seq {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

func (s *natServer) lookup(seq uint64) (natAddr, bool) {
	for _, a := range s.local {
		if a.seq == seq {
			return a, true
		}
	}
	return natAddr{}, false
}

// reachOut counts a REACH_OUT of round. It reports whether to probe the
// address it names (not for an older round) and whether it starts a new
// round, whose probes replace the last round's.
func (s *natServer) reachOut(now time.Time, round uint64) (probe, fresh bool, err error) {
	switch {
	case round < s.remoteRound:
		return false, false, nil
	case round > s.remoteRound:
		s.remoteRound, s.remoteRoundAddrs = round, 0
		s.startRemoteRound(now)
		fresh = true
	}
	s.remoteRoundAddrs++
	if s.remoteRoundAddrs > NatAddressLimit {
		return false, fresh, protocolViolation("REACH_OUT beyond the address limit")
	}
	return true, fresh, nil
}

// startRemoteRound schedules the probes of a round the client started:
// at once while fewer than natRoundBurst rounds began in the last
// natRoundBurst × natMinRoundGap, else when the oldest of them leaves
// that window. A round still waiting for its turn is replaced by the
// newest one, at the same time.
func (s *natServer) startRemoteRound(now time.Time) {
	if s.roundAt.After(now) {
		return
	}
	at := now
	if len(s.started) == natRoundBurst {
		at = maxTime(now, s.started[0].Add(natRoundBurst*natMinRoundGap))
		s.started = s.started[1:]
	}
	s.started = append(s.started, at)
	s.roundAt = at
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// appendFrames adds the owed ADD_ADDRESS and REMOVE_ADDRESS frames; it
// reports false when the packet is full.
func (s *natServer) appendFrames(add func(*wire.Frame) bool, rec *sentRecord) bool {
	for len(s.addOut) > 0 {
		seq := s.addOut[0]
		if a, ok := s.lookup(seq); ok {
			t := wire.FrameAddAddressIPv4
			if a.addr.Addr().Is6() {
				t = wire.FrameAddAddressIPv6
			}
			if !add(&wire.Frame{Type: t, Sequence: seq, Addr: a.addr}) {
				return false
			}
			r := recNAT(rec)
			r.adds = append(r.adds, seq)
		}
		s.addOut = s.addOut[1:]
	}
	for len(s.delOut) > 0 && add(&wire.Frame{Type: wire.FrameRemoveAddress, Sequence: s.delOut[0]}) {
		r := recNAT(rec)
		r.dels = append(r.dels, s.delOut[0])
		s.delOut = s.delOut[1:]
	}
	return true
}

func (s *natServer) framesPending() bool { return len(s.addOut) > 0 || len(s.delOut) > 0 }

// onLost owes lost announcements again while they are current.
func (s *natServer) onLost(r *recordNAT) {
	for _, seq := range r.adds {
		if _, ok := s.lookup(seq); ok {
			s.addOut = append(s.addOut, seq)
		}
	}
	s.delOut = append(s.delOut, r.dels...)
}
