package lookup

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

const (
	// maxTCPMessageLen is the largest DNS message a 16-bit TCP length
	// prefix can carry (RFC 1035 §4.2.2).
	maxTCPMessageLen = 65535
	// dnsTCPIdleTimeout closes a TCP client that takes longer than this to
	// send its next query (RFC 7766 §6.2.3 recommends seconds).
	dnsTCPIdleTimeout = 10 * time.Second
	// acceptRetryDelay paces Accept after running out of file descriptors.
	acceptRetryDelay = 100 * time.Millisecond
)

// ServeDNSTCP answers DNS queries over TCP on l (RFC 7766: each message
// behind a 2-byte length, several queries per connection, answered in
// order) until l is closed; it then closes the open connections and
// returns nil. Answers are never truncated. Clients fall back to TCP when
// a UDP answer has the TC bit; iroh's resolver does so for any answer over
// 512 bytes, because it sends no EDNS.
//
// Connections are capped per client and in total (ServerLimits); when all
// are taken, a newcomer evicts the connection idle the longest. With an
// invalid origin it returns that error at once.
func (s *Server) ServeDNSTCP(l net.Listener) error {
	if s.originErr != nil {
		return s.originErr
	}
	var wg sync.WaitGroup
	defer func() {
		s.dnsConns.closeAll()
		wg.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Warn("dns: TCP accept", "err", err)
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(acceptRetryDelay)
				continue
			}
			return err
		}
		ok, why := s.dnsConns.admit(c, s.now())
		if why != "" {
			s.log.Debug("dns: TCP connection limit", "remote", c.RemoteAddr(), "admitted", ok, "why", why)
		}
		if !ok {
			c.Close()
			continue
		}
		wg.Go(func() {
			s.serveDNSStream(c, func(idle bool) { s.dnsConns.setIdle(c, idle, s.now()) })
			c.Close()
			s.dnsConns.remove(c)
		})
	}
}

// dnsStream is a TCP connection as serveDNSStream needs it.
type dnsStream interface {
	io.ReadWriter
	SetDeadline(time.Time) error
}

// serveDNSStream answers length-prefixed queries from c until it ends, is
// idle too long, or sends an empty or over-long message. It reports when
// it waits for the client's next query (idle) and when it works (busy).
func (s *Server) serveDNSStream(c dnsStream, setIdle func(idle bool)) {
	var hdr [2]byte
	query := make([]byte, maxDNSQueryLen)
	for {
		if err := c.SetDeadline(time.Now().Add(s.timeouts.dnsTCPIdle)); err != nil {
			return
		}
		setIdle(true)
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		setIdle(false)
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 || n > len(query) {
			return
		}
		if _, err := io.ReadFull(c, query[:n]); err != nil {
			return
		}
		resp := s.respond(query[:n], modeTCP)
		if resp == nil {
			continue // a response or headerless garbage: nothing to say
		}
		out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(resp)), uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}
