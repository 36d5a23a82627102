package core

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// do runs one scripted operation; its arguments come from the script too.
// Calls the API may refuse (a stream limit, no path CIDs yet) are part of
// the exercise: their errors are ignored, their effects tracked.
func (in *interaction) do(op byte) {
	l := in.l
	switch op {
	case opOpen:
		b := in.next()
		c := in.side(b)
		if id, err := c.Streams().Open(b&2 != 0); err == nil {
			in.flows.add(c == l.client, id)
		}
	case opWrite:
		if f := in.flows.pick(in.next()); f != nil {
			in.flows.write(in.sender(f), f, int(in.next())*64+1)
		}
	case opFinish:
		if f := in.flows.pick(in.next()); f != nil && !f.reset && in.sender(f).Streams().CloseWrite(f.id) == nil {
			f.finished = true
		}
	case opReset:
		if f := in.flows.pick(in.next()); f != nil && in.sender(f).Streams().CancelWrite(f.id, 3) == nil {
			f.reset = true
		}
	case opStop:
		if f := in.flows.pick(in.next()); f != nil && !f.eof && !f.resetSeen && in.receiver(f).Streams().CancelRead(f.id, 4) == nil {
			f.stopped = true
		}
	case opDatagram:
		b := in.next()
		in.side(b).Datagrams().Send(datagramBytes(int(b>>1) * 8))
	case opKeyUpdate:
		in.side(in.next()).ForceKeyUpdate()
	case opOpenPath:
		to := l.sAddr2
		if in.next()&1 != 0 {
			to = l.sAddr
		}
		l.client.OpenPath(l.now, to)
	case opClosePath:
		b := in.next()
		c := in.side(b)
		ps := c.Paths()
		c.ClosePath(l.now, ps[int(b>>1)%len(ps)].ID, ApplicationAbandonPath)
	case opPathStatus:
		b := in.next()
		c := in.side(b)
		ps := c.Paths()
		c.SetPathStatus(ps[int(b>>2)%len(ps)].ID, b&2 != 0)
	case opRebind:
		in.rebind(newClientAddr(in.next()))
	case opNatRound:
		l.server.NatTraversal().AddAddress(l.sAddr2.UDP)
		l.client.NatTraversal().StartRound(l.now, []netip.AddrPort{l.cAddr2.UDP})
	default:
		in.doLink(op)
	}
}

// doLink runs the operations on the link and on time.
func (in *interaction) doLink(op byte) {
	l := in.l
	switch op {
	case opLoss:
		l.loss = lossLevels[int(in.next())%len(lossLevels)]
	case opJitter:
		l.jitter = time.Duration(in.next()%50) * time.Millisecond
	case opDup:
		l.dup = float64(in.next()%4) / 10
	case opAdvance:
		l.advance(time.Duration(in.next()) * 20 * time.Millisecond)
	case opCutPath:
		l.pathLoss[l.cAddr2] = float64(in.next() & 1)
	case opPing:
		in.side(in.next()).Ping()
	case opClose:
		// Rare: most scripts should keep the connection.
		if b := in.next(); b&0x0f == 0 {
			in.side(b>>4).Close(l.now, 7, "fuzz")
		}
	}
}

// rebind moves the client's primary address, as a NAT rebinding does: the
// old address stops receiving.
func (in *interaction) rebind(to Addr) {
	l := in.l
	if to == l.cAddr || to == l.cAddr2 {
		return
	}
	l.unreachable[l.cAddr] = true
	delete(l.unreachable, to)
	l.cAddr = to
}

// Limits of the clean-link phase, in virtual time. A PTO backed off during
// a long outage can take tens of seconds to fire again. The quiet period
// outlasts the path idle timeout: a path that died silently (the peer's
// NAT rebound, every PATH_ABANDON sent on it lost) is only given up then,
// and the frames it swallowed are resent on a live path (seed
// 496e88b42650387f: at 10 s the server still sent on the client's old
// address).
const (
	cleanLinkLimit = 3 * time.Minute
	quietPeriod    = DefaultPathIdleTimeout + 5*time.Second
)

// finish makes the link clean and checks that every stream completes and
// that both sides end up with the same open paths.
func (in *interaction) finish() {
	l := in.l
	l.loss, l.jitter, l.dup = 0, 0, 0
	clear(l.pathLoss)
	deadline := l.now.Add(cleanLinkLimit)
	for !in.ended() && !in.flows.allDone() {
		if l.now.After(deadline) {
			in.t.Fatalf("clean link, yet streams incomplete after %v: %s", cleanLinkLimit, in.flowReport())
		}
		l.advance(100 * time.Millisecond)
	}
	in.t.Logf("%d flows (%s), %d datagrams, paths %v, client err %v, server err %v",
		len(in.flows.flows), in.flowTotals(), in.dgrams, l.client.Paths(), l.client.Err(), l.server.Err())
	if in.ended() || !l.client.Multipath() {
		return
	}
	l.advance(quietPeriod)
	if in.ended() {
		return
	}
	if c, s := openPathIDs(l.client), openPathIDs(l.server); !slices.Equal(c, s) {
		// Both sides may be left with paths the other gave up (the client
		// closed its only validated path while its NAT rebound): then
		// nothing can be said any more, and both ends idle out. A live
		// connection must agree.
		l.advance(DefaultIdleTimeout)
		if !in.l.client.IsClosed() || !in.l.server.IsClosed() {
			in.t.Fatalf("open paths differ after a quiet %v: client %v server %v", quietPeriod, c, s)
		}
	}
}

func (in *interaction) ended() bool {
	return in.l.client.Err() != nil || in.l.server.Err() != nil
}

func (in *interaction) flowReport() string {
	s := ""
	for _, f := range in.flows.flows {
		if !f.done() {
			s += fmt.Sprintf("[stream %d from client %v: wrote %d fin %v reset %v, got %d eof %v] ", f.id, f.fromClient, f.written, f.finished, f.reset, f.got, f.eof)
		}
	}
	return s
}

func (in *interaction) flowTotals() string {
	var written, got uint64
	for _, f := range in.flows.flows {
		written, got = written+f.written, got+f.got
	}
	return fmt.Sprintf("%d bytes written, %d read", written, got)
}

func openPathIDs(c *Conn) []PathID {
	var ids []PathID
	for _, p := range c.Paths() {
		if !p.Abandoned {
			ids = append(ids, p.ID)
		}
	}
	return ids
}
