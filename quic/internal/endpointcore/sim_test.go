package endpointcore

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/alkdev/irohspoke/quic/internal/core"
	"github.com/alkdev/irohspoke/quic/internal/handshake"
)

// simNet is a simulated network between endpoints, in virtual time: every
// datagram arrives after the same delay, so the queue is in arrival
// order; nothing is lost unless drop says so.
type simNet struct {
	t     testing.TB
	now   time.Time
	delay time.Duration
	rng   *rand.ChaCha8 // all randomness, so runs repeat exactly
	hosts map[core.Addr]*host
	order []*host // hosts in the order added
	queue []packet
	// drop, when set, loses the datagrams it returns true for.
	drop func(from, to core.Addr, d []byte) bool
}

// host is one endpoint with its connections, driven as package quic's
// driver drives them.
type host struct {
	n     *simNet
	addr  core.Addr
	ep    *Endpoint[*core.Conn]
	conns []*core.Conn
	// Per connection, what the driver saw.
	handshaken map[*core.Conn]bool
	buf, resp  []byte
}

type packet struct {
	at       time.Time
	from, to core.Addr
	data     []byte
}

func newSimNet(t testing.TB, seed byte) *simNet {
	return &simNet{t: t, now: time.Unix(1_700_000_000, 0), delay: 5 * time.Millisecond,
		rng: rand.NewChaCha8([32]byte{seed}), hosts: map[core.Addr]*host{}}
}

func key(seed byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)) }

var serverKey = key(2)

func udp(s string) core.Addr { return core.UDPAddr(netip.MustParseAddrPort(s)) }

// addHost starts an endpoint at addr; server makes it accept connections.
func (n *simNet) addHost(addr core.Addr, server bool, cfg Config) *host {
	n.t.Helper()
	cfg.Rand = n.rng
	if cfg.ResetKey == nil {
		cfg.ResetKey = new(core.ResetKey)
		cfg.Rand.Read(cfg.ResetKey[:])
	}
	if server {
		cfg.Server = &core.Config{
			TLS:      &handshake.Config{PrivateKey: serverKey, ALPN: []string{"test"}, Rand: n.rng},
			Rand:     n.rng,
			ResetKey: cfg.ResetKey,
		}
	}
	ep, err := New[*core.Conn](cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	h := &host{n: n, addr: addr, ep: ep, handshaken: map[*core.Conn]bool{},
		buf: make([]byte, 1500), resp: make([]byte, 0, 512)}
	n.hosts[addr] = h
	n.order = append(n.order, h)
	return h
}

// dial starts a client connection from h to the server at to.
func (h *host) dial(to core.Addr) *core.Conn {
	h.n.t.Helper()
	cfg := &core.Config{
		TLS:      &handshake.Config{PrivateKey: key(1), ALPN: []string{"test"}, PeerKey: serverKey.Public().(ed25519.PublicKey), Rand: h.n.rng},
		Rand:     h.n.rng,
		ResetKey: h.ep.cfg.ResetKey,
	}
	c, err := core.NewClient(cfg, h.n.now, to)
	if err != nil {
		h.n.t.Fatal(err)
	}
	if err := h.ep.Connect(c, c); err != nil {
		h.n.t.Fatal(err)
	}
	h.conns = append(h.conns, c)
	return c
}

// send puts a datagram on the wire.
func (n *simNet) send(from, to core.Addr, d []byte) {
	if n.drop != nil && n.drop(from, to, d) {
		return
	}
	n.queue = append(n.queue, packet{at: n.now.Add(n.delay), from: from, to: to, data: append([]byte(nil), d...)})
}

// receive is the driver's read loop for one datagram.
func (h *host) receive(from core.Addr, d []byte) {
	r := h.ep.Handle(h.n.now, from, d, h.resp)
	switch r.Action {
	case NewConn:
		h.ep.Adopt(r.Incoming, r.Incoming.Core)
		h.conns = append(h.conns, r.Incoming.Core)
		r.Incoming.Core.HandleDatagram(h.n.now, from, 0, d)
	case Deliver:
		r.Conn.HandleDatagram(h.n.now, from, 0, d)
	case Respond:
		h.n.send(h.addr, from, r.Response)
	}
}

// drive runs h's connections: events to the endpoint, timeouts, sends.
func (h *host) drive() {
	kept := h.conns[:0]
	for _, c := range h.conns {
		if at, ok := c.Timeout(); ok && !h.n.now.Before(at) {
			c.HandleTimeout(h.n.now)
		}
		h.events(c)
		for {
			n, to := c.PollTransmit(h.n.now, h.buf)
			if n == 0 {
				break
			}
			h.n.send(h.addr, to, h.buf[:n])
		}
		h.events(c)
		if c.IsClosed() {
			h.ep.Remove(c)
			continue
		}
		kept = append(kept, c)
	}
	h.conns = kept
}

func (h *host) events(c *core.Conn) {
	for {
		ev, ok := c.PollEvent()
		if !ok {
			break
		}
		switch ev.Kind {
		case core.EventNewCID:
			h.ep.CIDIssued(c, ev.CID[:])
		case core.EventRetiredCID:
			h.ep.CIDRetired(c, ev.CID[:])
		case core.EventHandshakeComplete:
			h.handshaken[c] = true
			h.ep.HandshakeDone(c)
		}
	}
	if c.TakeResetTokensChanged() {
		h.ep.SetResetTokens(c, c.AppendResetTokens(nil))
	}
}

// step delivers what is due and runs every host once; false when nothing
// is left to happen.
func (n *simNet) step() bool {
	for _, h := range n.order {
		h.drive()
	}
	next := time.Time{}
	if len(n.queue) > 0 {
		next = n.queue[0].at
	}
	for _, h := range n.order {
		for _, c := range h.conns {
			if at, ok := c.Timeout(); ok && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
	}
	if next.IsZero() {
		return false
	}
	if next.After(n.now) {
		n.now = next
	}
	for len(n.queue) > 0 && !n.queue[0].at.After(n.now) {
		p := n.queue[0]
		n.queue = n.queue[1:]
		if h := n.hosts[p.to]; h != nil {
			h.receive(p.from, p.data)
		}
	}
	return true
}

// runUntil steps until cond holds, failing after limit of virtual time.
func (n *simNet) runUntil(cond func() bool, limit time.Duration) {
	n.t.Helper()
	deadline := n.now.Add(limit)
	for !cond() {
		if !n.step() || n.now.After(deadline) {
			n.t.Fatalf("condition not reached after %v of virtual time", limit)
		}
	}
}

// settle runs the network for d of virtual time.
func (n *simNet) settle(d time.Duration) {
	end := n.now.Add(d)
	for n.now.Before(end) && n.step() {
	}
}
