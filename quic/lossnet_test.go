package quic

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// memNet is an in-memory network for virtual-time runs (testing/synctest):
// every datagram is lost with probability loss, or arrives delay later, in
// order. The same network carries our endpoints (memTransport) and
// quic-go's (memPacketConn), so both stacks see the same link.
type memNet struct {
	mu    sync.Mutex
	rng   *rand.Rand
	delay time.Duration // one way
	loss  float64
	ports map[netip.AddrPort]*memPort

	sent, dropped int
}

func newMemNet(seed uint64, delay time.Duration, loss float64) *memNet {
	return &memNet{
		rng:   rand.New(rand.NewPCG(seed, seed^0x51ed)),
		delay: delay, loss: loss,
		ports: map[netip.AddrPort]*memPort{},
	}
}

type memDatagram struct {
	data []byte
	from netip.AddrPort
	at   time.Time
}

// memPort is one address on a memNet. A goroutine per port delivers its
// queue in order, so equal delays never reorder.
type memPort struct {
	net    *memNet
	addr   netip.AddrPort
	queue  chan memDatagram // in flight towards this port
	in     chan memDatagram // arrived, waiting for ReadFrom
	closed chan struct{}
	once   sync.Once

	dmu      sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes
}

// memQueue bounds datagrams in flight or unread per port: beyond it they
// are dropped, as a full socket buffer would.
const memQueue = 1 << 14

func (n *memNet) listen(addr string) *memPort {
	p := &memPort{
		net: n, addr: netip.MustParseAddrPort(addr),
		queue: make(chan memDatagram, memQueue), in: make(chan memDatagram, memQueue),
		closed: make(chan struct{}), wake: make(chan struct{}),
	}
	n.mu.Lock()
	n.ports[p.addr] = p
	n.mu.Unlock()
	go p.deliver()
	return p
}

func (p *memPort) deliver() {
	for {
		select {
		case d := <-p.queue:
			t := time.NewTimer(time.Until(d.at))
			select {
			case <-t.C:
			case <-p.closed:
				t.Stop()
				return
			}
			select {
			case p.in <- d:
			default:
			}
		case <-p.closed:
			return
		}
	}
}

var errMemClosed = errors.New("memnet: closed")

func (p *memPort) send(b []byte, to netip.AddrPort) error {
	select {
	case <-p.closed:
		return errMemClosed
	default:
	}
	n := p.net
	n.mu.Lock()
	dst := n.ports[to]
	n.sent++
	lost := n.rng.Float64() < n.loss
	if lost {
		n.dropped++
	}
	n.mu.Unlock()
	if dst == nil || lost {
		return nil
	}
	d := memDatagram{data: append([]byte(nil), b...), from: p.addr, at: time.Now().Add(n.delay)}
	select {
	case dst.queue <- d:
	default:
	}
	return nil
}

func (p *memPort) recv(b []byte) (int, netip.AddrPort, error) {
	for {
		p.dmu.Lock()
		dl, wake := p.deadline, p.wake
		p.dmu.Unlock()
		var timer *time.Timer
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
			}
			timer = time.NewTimer(d)
			timeout = timer.C
		}
		n, from, err, again := p.wait(b, timeout, wake)
		if timer != nil {
			timer.Stop()
		}
		if !again {
			return n, from, err
		}
	}
}

// wait is one blocking receive; again means the deadline changed.
func (p *memPort) wait(b []byte, timeout <-chan time.Time, wake chan struct{}) (int, netip.AddrPort, error, bool) {
	select {
	case d := <-p.in:
		return copy(b, d.data), d.from, nil, false
	case <-p.closed:
		return 0, netip.AddrPort{}, errMemClosed, false
	case <-timeout:
		return 0, netip.AddrPort{}, os.ErrDeadlineExceeded, false
	case <-wake:
		return 0, netip.AddrPort{}, nil, true
	}
}

func (p *memPort) setReadDeadline(t time.Time) {
	p.dmu.Lock()
	p.deadline = t
	close(p.wake)
	p.wake = make(chan struct{})
	p.dmu.Unlock()
}

func (p *memPort) close() {
	p.once.Do(func() { close(p.closed) })
}

func (p *memPort) udpAddr() *net.UDPAddr { return net.UDPAddrFromAddrPort(p.addr) }

// memTransport is a memPort as our Transport.
type memTransport struct{ p *memPort }

func (t memTransport) ReadFrom(b []byte) (int, Addr, error) {
	n, from, err := t.p.recv(b)
	return n, UDPAddr(from), err
}

func (t memTransport) WriteTo(b []byte, to Addr) error {
	if to.IsRelay() {
		return ErrUnsupportedAddr
	}
	return t.p.send(b, to.UDP)
}

func (t memTransport) Close() error        { t.p.close(); return nil }
func (t memTransport) LocalAddr() net.Addr { return t.p.udpAddr() }

// memPacketConn is a memPort as a net.PacketConn, for quic-go.
type memPacketConn struct{ p *memPort }

func (c memPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.p.recv(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

func (c memPacketConn) WriteTo(b []byte, to net.Addr) (int, error) {
	ua, ok := to.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("memnet: not a UDP address")
	}
	return len(b), c.p.send(b, ua.AddrPort())
}

func (c memPacketConn) Close() error                       { c.p.close(); return nil }
func (c memPacketConn) LocalAddr() net.Addr                { return c.p.udpAddr() }
func (c memPacketConn) SetDeadline(t time.Time) error      { return c.SetReadDeadline(t) }
func (c memPacketConn) SetReadDeadline(t time.Time) error  { c.p.setReadDeadline(t); return nil }
func (c memPacketConn) SetWriteDeadline(t time.Time) error { return nil }

// oursPair implements lossNet.
func (n *memNet) oursPair() (server, client Transport) {
	return memTransport{n.listen("10.0.0.2:4433")}, memTransport{n.listen("10.0.0.1:5000")}
}

// goPair implements lossNet.
func (n *memNet) goPair() (server, client net.PacketConn) {
	return memPacketConn{n.listen("10.0.0.2:4433")}, memPacketConn{n.listen("10.0.0.1:5000")}
}
