package core

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzRandomInteraction drives a client and a server in the simulator
// through a script the input bytes spell: streams opened, written,
// finished, reset and stopped, datagrams, key updates, paths opened,
// closed and re-prioritised, client rebinding, NAT traversal rounds, loss,
// reordering and duplication, time passing. Then the link turns clean and
// quiet. Invariants: no panic; a live connection always has a finite
// deadline and virtual time always moves; stream data arrives intact and
// in order, or the stream is reset; once the link is clean every stream
// completes (unless the connection ended in an allowed way: idle timeout,
// no viable path, application close); both sides agree on the open paths.
func FuzzRandomInteraction(f *testing.F) {
	for _, s := range randintSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > maxScript {
			return
		}
		newInteraction(t, script).run()
	})
}

// maxScript bounds one run: about 128 operations.
const maxScript = 256

// randintSeeds each exercise one area, so replaying them covers the
// operations even before any fuzzing.
var randintSeeds = [][]byte{
	{0x00},
	{0x01, opOpen, 0x03, opWrite, 0, 200, opFinish, 0, opAdvance, 50},
	{0x01, opOpen, 0x01, opOpen, 0x02, opWrite, 0, 255, opWrite, 1, 255, opLoss, 2, opAdvance, 100, opReset, 0, opFinish, 1},
	{0x01, opOpen, 0x03, opWrite, 0, 80, opStop, 0, opWrite, 0, 80, opAdvance, 20},
	{0x01, opOpen, 0x00, opWrite, 0, 255, opJitter, 40, opDup, 3, opLoss, 1, opWrite, 0, 255, opFinish, 0, opAdvance, 200},
	{0x01, opDatagram, 0x21, opDatagram, 0x40, opKeyUpdate, 0, opKeyUpdate, 1, opAdvance, 10},
	{0x01, opAdvance, 40, opOpenPath, 0, opAdvance, 30, opPathStatus, 1, opClosePath, 0, opAdvance, 50},
	{0x01, opAdvance, 40, opOpenPath, 0, opAdvance, 30, opCutPath, 1, opOpen, 3, opWrite, 0, 200, opAdvance, 200, opCutPath, 0},
	{0x01, opOpen, 3, opWrite, 0, 200, opRebind, 7, opWrite, 0, 200, opAdvance, 100, opRebind, 0x83},
	{0x01, opAdvance, 40, opNatRound, 0, opAdvance, 100, opOpen, 2, opWrite, 0, 90},
	{0x09, opLoss, 5, opAdvance, 250, opAdvance, 250, opLoss, 0, opOpen, 3, opWrite, 0, 30},
	{0x03, opOpen, 3, opWrite, 0, 255, opClose, 0, opAdvance, 10},
}

// Operation codes: the first byte of each operation, modulo numOps.
const (
	opOpen = iota
	opWrite
	opFinish
	opReset
	opStop
	opDatagram
	opKeyUpdate
	opOpenPath
	opClosePath
	opPathStatus
	opRebind
	opNatRound
	opLoss
	opJitter
	opDup
	opAdvance
	opCutPath
	opPing
	opClose
	numOps
)

var lossLevels = [...]float64{0, 0.02, 0.1, 0.3, 0.6, 1}

// interaction is one fuzzer run.
type interaction struct {
	t      *testing.T
	l      *chaosLink
	script []byte
	flows  flowSet
	dgrams int // datagrams received and checked
}

func newInteraction(t *testing.T, script []byte) *interaction {
	var cfgBits byte
	if len(script) > 0 {
		cfgBits, script = script[0], script[1:]
	}
	l := newLinkWith(t, uint64(cfgBits), func(c, s *Config) {
		mp := cfgBits&1 != 0
		c.Multipath, s.Multipath = mp, mp
		c.NatTraversal, s.NatTraversal = mp, mp
		if cfgBits&2 != 0 {
			c.AddressDiscovery, s.AddressDiscovery = AddressDiscoveryBoth, AddressDiscoveryBoth
		}
		if cfgBits&4 != 0 {
			c.KeyUpdateInterval, s.KeyUpdateInterval = 50, 70
		}
		if cfgBits&8 != 0 {
			// Small windows and buffers: writes block, flow control runs.
			c.Streams.StreamWindow, s.Streams.StreamWindow = 4000, 4000
			c.Streams.SendBuffer, s.Streams.SendBuffer = 6000, 6000
		}
		c.DisablePMTUD = cfgBits&16 != 0
		if cfgBits&32 != 0 {
			// Candidates in the server's first flight (0.5-RTT).
			s.NatAddresses = serverCandidates
		}
	})
	in := &interaction{t: t, script: script}
	in.l = &chaosLink{link: l, onStep: in.pump}
	in.flows = flowSet{t: t, buf: make([]byte, 4096)}
	l.runUntil(l.established, 5*time.Second)
	return in
}

func (in *interaction) next() byte {
	if len(in.script) == 0 {
		return 0
	}
	b := in.script[0]
	in.script = in.script[1:]
	return b
}

func (in *interaction) run() {
	for len(in.script) > 0 {
		in.do(in.next() % numOps)
		in.l.advance(5 * time.Millisecond)
	}
	in.finish()
}

// pump reads everything readable on both sides and drains events.
func (in *interaction) pump() {
	l := in.l
	in.flows.accept(l.client, true)
	in.flows.accept(l.server, false)
	for _, f := range in.flows.flows {
		in.flows.read(in.receiver(f), f)
	}
	for _, c := range []*Conn{l.client, l.server} {
		for {
			if _, ok := c.PollEvent(); !ok {
				break
			}
		}
		for {
			d, ok := c.Datagrams().Recv()
			if !ok {
				break
			}
			checkDatagram(in.t, d)
			in.dgrams++
		}
		in.l.checkClose(c)
	}
}

func (in *interaction) sender(f *flow) *Conn {
	if f.fromClient {
		return in.l.client
	}
	return in.l.server
}

func (in *interaction) receiver(f *flow) *Conn {
	if f.fromClient {
		return in.l.server
	}
	return in.l.client
}

func (in *interaction) side(b byte) *Conn {
	if b&1 == 0 {
		return in.l.client
	}
	return in.l.server
}

// datagramBytes fills a datagram whose bytes depend on its length.
func datagramBytes(n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(i*31 + n)
	}
	return d
}

func checkDatagram(t testing.TB, d []byte) {
	for i, b := range d {
		if b != byte(i*31+len(d)) {
			t.Fatalf("datagram of %d bytes corrupted at %d", len(d), i)
		}
	}
}

// newClientAddr is where a rebinding moves the client: another port, or
// (high bit) another host.
func newClientAddr(b byte) Addr {
	host := [4]byte{10, 0, 0, 1}
	if b&0x80 != 0 {
		host = [4]byte{10, 9, b & 0x7f, 1}
	}
	return UDPAddr(netip.AddrPortFrom(netip.AddrFrom4(host), 3000+uint16(b)))
}
