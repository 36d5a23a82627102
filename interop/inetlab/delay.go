//go:build linux

package inetlab

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/alkdev/irohspoke/interop/natlab"
)

// maxDelay bounds the latency a relay may be given.
const maxDelay = 2 * time.Second

const (
	delayQueueLen  = 1024
	udpSessionIdle = 60 * time.Second
	maxUDPSessions = 1024
	copyBufSize    = 64 << 10
)

// delayLine delivers byte slices in order, each d after it was put.
type delayLine struct {
	d    time.Duration
	ch   chan delayed
	once sync.Once
	done chan struct{} // closed when everything queued was handled
}

type delayed struct {
	b  []byte
	at time.Time
}

// newDelayLine starts the goroutine that calls send for each slice; it
// stops after close, or when send fails.
func newDelayLine(d time.Duration, send func([]byte) error) *delayLine {
	q := &delayLine{d: d, ch: make(chan delayed, delayQueueLen), done: make(chan struct{})}
	go func() {
		defer close(q.done)
		failed := false
		for x := range q.ch {
			if failed {
				continue // drain so that put never blocks
			}
			time.Sleep(time.Until(x.at))
			failed = send(x.b) != nil
		}
	}()
	return q
}

// put queues b, waiting for room (TCP: backpressure).
func (q *delayLine) put(b []byte) { q.ch <- delayed{b, time.Now().Add(q.d)} }

// tryPut queues b or drops it when the queue is full (UDP).
func (q *delayLine) tryPut(b []byte) {
	select {
	case q.ch <- delayed{b, time.Now().Add(q.d)}:
	default:
	}
}

func (q *delayLine) close() { q.once.Do(func() { close(q.ch) }) }

// delayProxy forwards TCP connections and UDP datagrams arriving at a
// public address to a server inside the same namespace, adding a fixed
// delay in each direction. The server sees the public address as the
// source, so QUIC Address Discovery behind it reports that address.
type delayProxy struct {
	host   *natlab.Host
	public netip.Addr
	delay  time.Duration

	mu      sync.Mutex
	closers []func()
	closed  bool
}

// forwardTCP proxies listen (on the public address) to target.
func (p *delayProxy) forwardTCP(listen, target netip.AddrPort) error {
	l, err := nsListen(p.host, "tcp", listen.String())
	if err != nil {
		return err
	}
	p.onClose(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serveTCP(c, target)
		}
	}()
	return nil
}

func (p *delayProxy) serveTCP(client net.Conn, target netip.AddrPort) {
	var up net.Conn
	err := p.host.Do(func() error {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(p.public, 0)), Timeout: 3 * time.Second}
		c, err := d.Dial("tcp", target.String())
		up = c
		return err
	})
	if err != nil {
		client.Close()
		return
	}
	p.onClose(func() { client.Close(); up.Close() })
	var once sync.Once
	closeBoth := func() { once.Do(func() { client.Close(); up.Close() }) }
	var both sync.WaitGroup
	both.Add(2)
	go p.pipeTCP(up, client, closeBoth, &both)
	go p.pipeTCP(client, up, closeBoth, &both)
	go func() {
		both.Wait()
		closeBoth()
	}()
}

// pipeTCP copies src to dst through a delay line. When src ends cleanly,
// dst gets a FIN once the queued bytes are out (a relay that exits is
// seen as closing); an error ends the whole connection.
func (p *delayProxy) pipeTCP(dst, src net.Conn, closeBoth func(), both *sync.WaitGroup) {
	defer both.Done()
	q := newDelayLine(p.delay, func(b []byte) error {
		_, err := dst.Write(b)
		return err
	})
	buf := make([]byte, copyBufSize)
	var err error
	for {
		var n int
		n, err = src.Read(buf)
		if n > 0 {
			q.put(append([]byte(nil), buf[:n]...))
		}
		if err != nil {
			break
		}
	}
	q.close()
	<-q.done
	if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
		tc.CloseWrite()
		return
	}
	closeBoth()
}

// forwardUDP proxies datagrams to listen (on the public address) to
// target, with one upstream socket per client address.
func (p *delayProxy) forwardUDP(listen, target netip.AddrPort) error {
	pc, err := nsListenPacket(p.host, "udp", listen.String())
	if err != nil {
		return err
	}
	p.onClose(func() { pc.Close() })
	go p.serveUDP(pc, target)
	return nil
}

type udpSession struct {
	up   *net.UDPConn
	toUp *delayLine
	last time.Time
}

func (p *delayProxy) serveUDP(pc net.PacketConn, target netip.AddrPort) {
	sessions := map[netip.AddrPort]*udpSession{}
	var mu sync.Mutex
	buf := make([]byte, copyBufSize)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				mu.Lock()
				for _, s := range sessions {
					s.up.Close()
					s.toUp.close()
				}
				mu.Unlock()
				return
			}
			continue
		}
		client := from.(*net.UDPAddr).AddrPort()
		mu.Lock()
		s := sessions[client]
		if s == nil {
			p.expire(sessions)
			if s = p.newUDPSession(pc, client, target, func(gone *udpSession) {
				mu.Lock()
				if sessions[client] == gone {
					delete(sessions, client)
				}
				mu.Unlock()
			}); s != nil {
				sessions[client] = s
			}
		}
		if s != nil {
			s.last = time.Now()
			s.toUp.tryPut(append([]byte(nil), buf[:n]...))
		}
		mu.Unlock()
	}
}

// expire drops idle sessions, and the oldest when there are too many.
func (p *delayProxy) expire(sessions map[netip.AddrPort]*udpSession) {
	var oldest netip.AddrPort
	for c, s := range sessions {
		if time.Since(s.last) > udpSessionIdle {
			s.up.Close()
			delete(sessions, c)
		} else if !oldest.IsValid() || s.last.Before(sessions[oldest].last) {
			oldest = c
		}
	}
	if len(sessions) >= maxUDPSessions {
		sessions[oldest].up.Close()
		delete(sessions, oldest)
	}
}

func (p *delayProxy) newUDPSession(pc net.PacketConn, client, target netip.AddrPort, gone func(*udpSession)) *udpSession {
	var up *net.UDPConn
	err := p.host.Do(func() error {
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.public, 0)), net.UDPAddrFromAddrPort(target))
		up = c
		return err
	})
	if err != nil {
		return nil
	}
	s := &udpSession{up: up, last: time.Now()}
	s.toUp = newDelayLine(p.delay, func(b []byte) error {
		up.Write(b) // a dead server's ICMP errors must not end the session
		return nil
	})
	toClient := newDelayLine(p.delay, func(b []byte) error {
		_, err := pc.WriteTo(b, net.UDPAddrFromAddrPort(client))
		return err
	})
	go func() {
		defer gone(s)
		defer toClient.close()
		defer s.toUp.close()
		buf := make([]byte, copyBufSize)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				toClient.tryPut(append([]byte(nil), buf[:n]...))
			}
			if err != nil && errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}()
	return s
}

func (p *delayProxy) onClose(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		fn()
		return
	}
	p.closers = append(p.closers, fn)
}

// Close stops the proxy and every connection through it.
func (p *delayProxy) Close() {
	p.mu.Lock()
	fns := p.closers
	p.closers, p.closed = nil, true
	p.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
