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
	// maxDNSTCPConns bounds concurrent TCP clients; more are closed at
	// once.
	maxDNSTCPConns = 256
	// acceptRetryDelay paces Accept after running out of file descriptors.
	acceptRetryDelay = 100 * time.Millisecond
)

// ServeDNSTCP answers DNS queries over TCP on l (RFC 7766: each message
// behind a 2-byte length, several queries per connection, answered in
// order) until l is closed; it then closes the open connections and
// returns nil. Answers are never truncated. Clients fall back to TCP when
// a UDP answer has the TC bit; iroh's resolver does so for any answer over
// 512 bytes, because it sends no EDNS.
func (s *Server) ServeDNSTCP(l net.Listener) error {
	var (
		mu    sync.Mutex
		conns = make(map[net.Conn]struct{})
		wg    sync.WaitGroup
	)
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(acceptRetryDelay)
				continue
			}
			return err
		}
		mu.Lock()
		if len(conns) >= maxDNSTCPConns {
			mu.Unlock()
			s.log.Debug("dns: too many TCP clients", "remote", c.RemoteAddr())
			c.Close()
			continue
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveDNSStream(c)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

// dnsStream is a TCP connection as serveDNSStream needs it.
type dnsStream interface {
	io.ReadWriter
	SetDeadline(time.Time) error
}

// serveDNSStream answers length-prefixed queries from c until it ends, is
// idle too long, or sends an empty or over-long message.
func (s *Server) serveDNSStream(c dnsStream) {
	var hdr [2]byte
	query := make([]byte, maxDNSQueryLen)
	for {
		if err := c.SetDeadline(time.Now().Add(dnsTCPIdleTimeout)); err != nil {
			return
		}
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 || n > len(query) {
			return
		}
		if _, err := io.ReadFull(c, query[:n]); err != nil {
			return
		}
		resp := s.respond(query[:n], true)
		if resp == nil {
			continue // a response or headerless garbage: nothing to say
		}
		out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(resp)), uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}
