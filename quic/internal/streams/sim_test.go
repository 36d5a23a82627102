package streams

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// This file wires two Managers back to back through a lossy, reordering
// in-memory "frame link" in virtual time. It stands in for the connection
// core: packets are lists of frames, each packet is acknowledged by a
// separate (also lossy) ack message, and unacknowledged packets are
// declared lost after a timeout.

type simFrame struct {
	f    Frame
	data []byte
}

type simPacket struct {
	pn     uint64
	frames []simFrame
}

type inflight struct {
	frames []Frame
	sentAt int
	lost   bool
}

type simEnd struct {
	m        *Manager
	nextPN   uint64
	inflight map[uint64]*inflight
}

type delivery struct {
	at  int
	to  int // endpoint index
	pkt *simPacket
	ack uint64 // when pkt == nil: pn acknowledged
}

type simLink struct {
	t        *testing.T
	rng      *rand.Rand
	ends     [2]*simEnd
	queue    []delivery
	tick     int
	loss     float64 // per packet and per ack
	maxDelay int     // ticks; delay is uniform in [1, maxDelay]
	perTick  int     // packets each side may send per tick
	mtu      int
	lossAge  int // ticks after which an unacked packet is lost
	packets  int
	kinds    map[FrameKind]int // frames sent, by kind
	lost     int               // packets declared lost
}

var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const simTick = time.Millisecond

func newSimLink(t *testing.T, seed uint64, client, server Config) *simLink {
	l := &simLink{
		t:        t,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b9)),
		loss:     0.03,
		maxDelay: 6,
		perTick:  40,
		mtu:      1200,
		kinds:    map[FrameKind]int{},
	}
	l.lossAge = 2*l.maxDelay + 3
	a := NewManager(Client, client)
	b := NewManager(Server, server)
	a.SetPeerParams(b.LocalParams())
	b.SetPeerParams(a.LocalParams())
	rtt := time.Duration(l.maxDelay+1) * simTick
	a.SetRTT(rtt)
	b.SetRTT(rtt)
	l.ends = [2]*simEnd{{m: a, inflight: map[uint64]*inflight{}}, {m: b, inflight: map[uint64]*inflight{}}}
	return l
}

func (l *simLink) now() time.Time { return simEpoch.Add(time.Duration(l.tick) * simTick) }

func (l *simLink) send(to int, d delivery) {
	if l.rng.Float64() < l.loss {
		return
	}
	d.to = to
	d.at = l.tick + 1 + l.rng.IntN(l.maxDelay)
	l.queue = append(l.queue, d)
}

// step advances virtual time by one tick: deliver what is due, detect
// losses, and let both sides transmit.
func (l *simLink) step() {
	l.tick++
	due := l.queue[:0:0]
	rest := l.queue[:0]
	for _, d := range l.queue {
		if d.at <= l.tick {
			due = append(due, d)
		} else {
			rest = append(rest, d)
		}
	}
	l.queue = rest
	// Delivery order within a tick is shuffled: more reordering.
	l.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, d := range due {
		e := l.ends[d.to]
		if d.pkt == nil {
			if p := e.inflight[d.ack]; p != nil {
				delete(e.inflight, d.ack)
				for _, f := range p.frames {
					e.m.OnAcked(f) // also for spuriously "lost" packets
				}
			}
			continue
		}
		for _, sf := range d.pkt.frames {
			if err := deliverFrame(e.m, sf); err != nil {
				l.t.Fatalf("tick %d: endpoint %d: frame %+v: %v", l.tick, d.to, sf.f, err)
			}
		}
		l.send(1-d.to, delivery{ack: d.pkt.pn})
	}
	for _, e := range l.ends {
		// Packet-number order keeps runs deterministic (maps are not).
		pns := make([]uint64, 0, len(e.inflight))
		for pn := range e.inflight {
			pns = append(pns, pn)
		}
		slices.Sort(pns)
		for _, pn := range pns {
			p := e.inflight[pn]
			if !p.lost && l.tick-p.sentAt > l.lossAge {
				p.lost = true
				l.lost++
				for _, f := range p.frames {
					e.m.OnLost(f)
				}
			}
		}
		// Forget very old lost packets (their late acks are rare).
		for pn, p := range e.inflight {
			if p.lost && l.tick-p.sentAt > 4*l.lossAge {
				delete(e.inflight, pn)
			}
		}
	}
	for i, e := range l.ends {
		for n := 0; n < l.perTick; n++ {
			p := l.buildPacket(e)
			if p == nil {
				break
			}
			l.send(1-i, delivery{pkt: p})
		}
	}
}

func (l *simLink) buildPacket(e *simEnd) *simPacket {
	room := l.mtu
	p := &simPacket{pn: e.nextPN}
	for {
		f, ok := e.m.NextControl(l.now(), room)
		if !ok {
			break
		}
		room -= f.WireSize()
		p.frames = append(p.frames, simFrame{f: f})
	}
	for room > 3 {
		f, data, ok := e.m.NextStreamFrame(room)
		if !ok {
			break
		}
		if f.WireSize() > room {
			l.t.Fatalf("stream frame %+v (%d bytes) exceeds room %d", f, f.WireSize(), room)
		}
		room -= f.WireSize()
		p.frames = append(p.frames, simFrame{f: f, data: append([]byte(nil), data...)})
	}
	if len(p.frames) == 0 {
		return nil
	}
	e.nextPN++
	rec := &inflight{sentAt: l.tick}
	for _, sf := range p.frames {
		rec.frames = append(rec.frames, sf.f)
		l.kinds[sf.f.Kind]++
	}
	e.inflight[p.pn] = rec
	l.packets++
	return p
}

// deliverFrame is the core's dispatch from a decoded frame to the Manager.
func deliverFrame(m *Manager, sf simFrame) error {
	f := sf.f
	switch f.Kind {
	case FrameStream:
		return m.HandleStream(f.ID, f.Offset, sf.data, f.Fin)
	case FrameResetStream:
		return m.HandleResetStream(f.ID, f.Code, f.Value)
	case FrameStopSending:
		return m.HandleStopSending(f.ID, f.Code)
	case FrameMaxData:
		m.HandleMaxData(f.Value)
	case FrameMaxStreamData:
		return m.HandleMaxStreamData(f.ID, f.Value)
	case FrameMaxStreams:
		return m.HandleMaxStreams(f.Dir, f.Value)
	case FrameDataBlocked:
		m.HandleDataBlocked(f.Value)
	case FrameStreamDataBlocked:
		return m.HandleStreamDataBlocked(f.ID, f.Value)
	case FrameStreamsBlocked:
		return m.HandleStreamsBlocked(f.Dir, f.Value)
	}
	return nil
}

// settle runs ticks until nothing is queued or in flight (acks included).
func (l *simLink) settle(maxTicks int) {
	for i := 0; i < maxTicks; i++ {
		if len(l.queue) == 0 && !l.ends[0].m.HasPending() && !l.ends[1].m.HasPending() && l.unacked() == 0 {
			return
		}
		l.step()
	}
	l.t.Fatalf("link did not settle in %d ticks", maxTicks)
}

func (l *simLink) unacked() int {
	n := 0
	for _, e := range l.ends {
		for _, p := range e.inflight {
			if !p.lost {
				n++
			}
		}
	}
	return n
}

// checkConnAccounting verifies connection-level flow control once the link
// is quiet: every byte one side sent is counted by the other, and all of it
// was read or discarded.
func (l *simLink) checkConnAccounting() {
	for i, e := range l.ends {
		peer := l.ends[1-i].m
		if e.m.connSent != peer.connHighest {
			l.t.Errorf("side %d sent %d new bytes, peer counted %d", i, e.m.connSent, peer.connHighest)
		}
		if peer.connHighest != peer.connRecv.consumed {
			l.t.Errorf("side %d: received %d bytes, consumed %d", 1-i, peer.connHighest, peer.connRecv.consumed)
		}
	}
}
