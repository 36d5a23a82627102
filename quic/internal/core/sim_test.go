package core

import (
	"container/heap"
	"crypto/ed25519"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/handshake"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// link is a simulated network between a client and a server core, in
// virtual time, with delay, loss and reordering from a seeded RNG.
type link struct {
	t      testing.TB
	now    time.Time
	rng    *rand.Rand
	delay  time.Duration
	jitter time.Duration // reordering: each datagram gets up to this much extra delay
	loss   float64
	queue  flightQueue
	client *Conn
	server *Conn
	srvCfg *Config
	cAddr  Addr
	sAddr  Addr
	// Second path: the client's other address and the server's other
	// address (multipath tests). A datagram to sAddr2 leaves from cAddr2.
	cAddr2, sAddr2 Addr
	// pathLoss drops datagrams of the path with this client address
	// (both directions) with the given probability; 1 cuts the path.
	pathLoss map[Addr]float64
	// bytesVia counts bytes sent per client-side path address.
	bytesVia map[Addr]int
	// sentTo counts datagrams per destination; unreachable drops them.
	sentTo      map[Addr]int
	unreachable map[Addr]bool
	// Events seen by transfer and drainEvents, per side.
	clientEvents, serverEvents []Event
	buf                        []byte
	sent                       int
	dropped                    int
	drop                       func(toServer bool, d []byte) bool // optional targeted loss
	// mtu, when set, drops every datagram larger than this many bytes, as
	// a link with a smaller path MTU (and DF set) would.
	mtu int
	// newServer overrides how the server is created from the first Initial.
	newServer func(h wire.Header) (*Conn, error)
	// frames counts the frame types of every 1-RTT payload either side
	// sealed.
	frames map[wire.FrameType]int
}

type flight struct {
	at       time.Time
	from     Addr
	toServer bool
	data     []byte
	seq      int
}

type flightQueue []flight

func (q flightQueue) Len() int { return len(q) }
func (q flightQueue) Less(i, j int) bool {
	if q[i].at.Equal(q[j].at) {
		return q[i].seq < q[j].seq
	}
	return q[i].at.Before(q[j].at)
}
func (q flightQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *flightQueue) Push(x any)   { *q = append(*q, x.(flight)) }
func (q *flightQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func testKeys(seed byte) ed25519.PrivateKey {
	s := make([]byte, 32)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

func newLink(t testing.TB, seed uint64) *link { return newLinkWith(t, seed, nil) }

// newLinkWith lets setup adjust both configurations before the client
// starts.
func newLinkWith(t testing.TB, seed uint64, setup func(client, server *Config)) *link {
	ck, sk := testKeys(1), testKeys(2)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	l := &link{
		t: t, now: time.Unix(1_700_000_000, 0), rng: rng,
		delay:       10 * time.Millisecond,
		cAddr:       UDPAddr(netip.MustParseAddrPort("10.0.0.1:1000")),
		sAddr:       UDPAddr(netip.MustParseAddrPort("10.0.0.2:2000")),
		cAddr2:      UDPAddr(netip.MustParseAddrPort("[fd00::1]:1001")),
		sAddr2:      UDPAddr(netip.MustParseAddrPort("[fd00::2]:2001")),
		pathLoss:    map[Addr]float64{},
		bytesVia:    map[Addr]int{},
		sentTo:      map[Addr]int{},
		unreachable: map[Addr]bool{},
		buf:         make([]byte, 1500),
	}
	ccfg := &Config{TLS: &handshake.Config{PrivateKey: ck, ALPN: []string{"test"}, PeerKey: sk.Public().(ed25519.PublicKey), Rand: rngReader{rng}}, Rand: rngReader{rng}, CheckPayloads: true}
	l.srvCfg = &Config{TLS: &handshake.Config{PrivateKey: sk, ALPN: []string{"test"}, Rand: rngReader{rng}}, Rand: rngReader{rng}, CheckPayloads: true}
	if setup != nil {
		setup(ccfg, l.srvCfg)
	}
	c, err := NewClient(ccfg, l.now, l.sAddr)
	if err != nil {
		t.Fatal(err)
	}
	l.client = c
	l.recordFrames(c)
	return l
}

type rngReader struct{ r *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

// flush sends everything both sides want to send now.
func (l *link) flush() {
	for _, side := range []*Conn{l.client, l.server} {
		if side == nil {
			continue
		}
		for i := 0; i < 10000; i++ {
			n, to := side.PollTransmit(l.now, l.buf)
			if n == 0 {
				break
			}
			toServer := side == l.client
			from, pathAddr := l.sAddr, to // the path's client-side address
			if to == l.cAddr2 {
				from = l.sAddr2
			}
			if toServer {
				from = l.cAddr
				if to == l.sAddr2 {
					from = l.cAddr2
				}
				pathAddr = from
			}
			l.bytesVia[pathAddr] += n
			l.sentTo[to]++
			d := append([]byte(nil), l.buf[:n]...)
			l.sent++
			pl := l.pathLoss[pathAddr]
			if (l.mtu > 0 && n > l.mtu) || (l.drop != nil && l.drop(toServer, d)) || (l.loss > 0 && l.rng.Float64() < l.loss) || (pl > 0 && l.rng.Float64() < pl) || l.unreachable[to] {
				l.dropped++
				continue
			}
			at := l.now.Add(l.delay)
			if l.jitter > 0 {
				at = at.Add(time.Duration(l.rng.Int64N(int64(l.jitter))))
			}
			heap.Push(&l.queue, flight{at: at, from: from, toServer: toServer, data: d, seq: l.sent})
		}
	}
}

// deliver hands a datagram to its receiver, creating the server on the
// first client Initial.
func (l *link) deliver(f flight) {
	if !f.toServer {
		l.client.HandleDatagram(l.now, f.from, 0, f.data)
		return
	}
	if l.server == nil {
		h, err := wire.ParseHeader(f.data, LocalCIDLen)
		if err != nil || h.Type != wire.PacketInitial {
			return
		}
		local := make([]byte, LocalCIDLen)
		rngReader{l.rng}.Read(local)
		var s *Conn
		if l.newServer != nil {
			s, err = l.newServer(h)
		} else {
			s, err = NewServer(l.srvCfg, l.now, l.cAddr, h.DCID, h.SCID, local)
		}
		if err != nil {
			l.t.Fatal(err)
		}
		l.server = s
		l.recordFrames(s)
	}
	l.server.HandleDatagram(l.now, f.from, 0, f.data)
}

// step advances to the next event (delivery or timer) and processes it.
// It returns false when nothing is left to happen.
func (l *link) step() bool {
	l.flush()
	next := time.Time{}
	if len(l.queue) > 0 {
		next = l.queue[0].at
	}
	for _, c := range []*Conn{l.client, l.server} {
		if c == nil {
			continue
		}
		if at, ok := c.Timeout(); ok && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if next.IsZero() {
		return false
	}
	if next.After(l.now) {
		l.now = next
	}
	for len(l.queue) > 0 && !l.queue[0].at.After(l.now) {
		l.deliver(heap.Pop(&l.queue).(flight))
	}
	for _, c := range []*Conn{l.client, l.server} {
		if c == nil {
			continue
		}
		if at, ok := c.Timeout(); ok && !at.After(l.now) {
			c.HandleTimeout(l.now)
		}
	}
	return true
}

// runUntil steps until cond holds, failing after limit of virtual time.
func (l *link) runUntil(cond func() bool, limit time.Duration) {
	l.t.Helper()
	deadline := l.now.Add(limit)
	stuck, last := 0, l.now
	for !cond() {
		if l.now.Equal(last) {
			stuck++
		} else {
			stuck, last = 0, l.now
		}
		if stuck > 100000 {
			ct, _ := l.client.Timeout()
			st, _ := l.server.Timeout()
			l.t.Fatalf("virtual time stuck at %v: client timeout %v (%v) server timeout %v (%v)", l.now, ct.Sub(l.now), l.client.paths[0].rec.NextTimer(), st.Sub(l.now), l.server.paths[0].rec.NextTimer())
		}
		if !l.step() || l.now.After(deadline) {
			l.t.Fatalf("condition not reached after %v of virtual time (client err %v, server err %v)", limit, l.client.Err(), serverErr(l.server))
		}
	}
}

func serverErr(s *Conn) error {
	if s == nil {
		return nil
	}
	return s.Err()
}

func (l *link) established() bool {
	return l.client.HandshakeComplete() && l.server != nil && l.server.HandshakeComplete() && l.client.confirmed
}

// drainEvents moves both sides' pending events into the link's logs.
func (l *link) drainEvents() {
	for {
		e, ok := l.client.PollEvent()
		if !ok {
			break
		}
		l.clientEvents = append(l.clientEvents, e)
	}
	for l.server != nil {
		e, ok := l.server.PollEvent()
		if !ok {
			break
		}
		l.serverEvents = append(l.serverEvents, e)
	}
}

// appPacket is a 1-RTT packet with destination CID dcid on path p, in a
// datagram of size bytes from p's address, for feeding handleFrame.
func appPacket(p *path, dcid []byte, size int) *rxPacket {
	return &rxPacket{rx: &rxDatagram{from: p.addr, size: size}, lvl: levelApp, typ: wire.Packet1RTT, path: p, dcid: dcid}
}

// recordFrames makes c count the frame types of its 1-RTT payloads in
// l.frames, besides checking them.
func (l *link) recordFrames(c *Conn) {
	if l.frames == nil {
		l.frames = map[wire.FrameType]int{}
	}
	check := c.checkPayload
	c.checkPayload = func(lv level, p []byte) {
		if check != nil {
			check(lv, p)
		}
		for len(p) > 0 && lv == levelApp {
			var f wire.Frame
			n, err := f.Parse(p)
			if err != nil {
				return
			}
			l.frames[f.Type]++
			p = p[n:]
		}
	}
}

// sealUnchecked seals a payload that is malformed on purpose.
func sealUnchecked(c *Conn, pl *planned) []byte {
	check := c.checkPayload
	c.checkPayload = nil
	defer func() { c.checkPayload = check }()
	return c.sealPacket(nil, pl)
}
