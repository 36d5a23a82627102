package relay

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// connLimiter counts open connections in total and per source, where a
// source is an IPv4 address or an IPv6 /64 (what one host usually gets).
type connLimiter struct {
	max, perSource int // <= 0: no cap

	mu       sync.Mutex
	total    int
	bySource map[netip.Prefix]int
}

func newConnLimiter(max, perSource int) *connLimiter {
	return &connLimiter{max: max, perSource: perSource, bySource: make(map[netip.Prefix]int)}
}

// sourceOf maps a remote address to its source prefix.
func sourceOf(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{} // not IP: all such peers share one source
	}
	ip := ap.Addr().Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

func (l *connLimiter) acquire(src netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max || l.perSource > 0 && l.bySource[src] >= l.perSource {
		return false
	}
	l.total++
	l.bySource[src]++
	return true
}

func (l *connLimiter) release(src netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src)
	}
}

// limitListener refuses connections over the caps at accept time, before
// any of them costs a goroutine or a buffer, and reports accept errors.
type limitListener struct {
	net.Listener
	s   *Server
	lim *connLimiter
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				if ok, n := l.s.acceptErrLog.allow(time.Now()); ok {
					l.s.log.Warn("relay: accept failed", "err", err, "suppressed", n)
				}
			}
			return nil, err
		}
		src := sourceOf(nc.RemoteAddr())
		if !l.lim.acquire(src) {
			l.s.metrics.ConnsRefused.Add(1)
			if ok, n := l.s.refusedLog.allow(time.Now()); ok {
				l.s.log.Warn("relay: connection cap reached, refusing", "remote", nc.RemoteAddr().String(), "suppressed", n)
			}
			nc.Close()
			continue
		}
		l.s.metrics.Conns.Add(1)
		return &limitedConn{Conn: nc, l: l, src: src}, nil
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	src  netip.Prefix
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.lim.release(c.src)
		c.l.s.metrics.Conns.Add(-1)
	})
	return c.Conn.Close()
}

// CloseWrite keeps net/http's graceful close (half-close, then linger).
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// logThrottle lets one log line through per second and counts the rest,
// so that a flood of refusals cannot become a flood of log lines.
type logThrottle struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

func (t *logThrottle) allow(now time.Time) (ok bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Before(t.next) {
		t.suppressed++
		return false, 0
	}
	t.next = now.Add(time.Second)
	suppressed, t.suppressed = t.suppressed, 0
	return true, suppressed
}
