package endpoint

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alkdev/irohspoke/quic"
	"github.com/alkdev/irohspoke/relay"
)

// inboxLen bounds the relay datagrams waiting for the QUIC reader. The
// relay clients have their own receive queues behind it.
const inboxLen = 256

// relayCloseLinger is how long Close waits for relay clients to write the
// CONNECTION_CLOSE packets queued while closing.
const relayCloseLinger = 50 * time.Millisecond

// wakeDeadline is a read deadline in the past: setting it makes a blocked
// UDP read return at once.
var wakeDeadline = time.Unix(1, 0)

// relayDatagram is a datagram received through a relay, already mapped to
// its path address.
type relayDatagram struct {
	from    quic.Addr
	payload []byte
}

// socket is the quic.Transport of an Endpoint: one UDP socket plus the
// relay clients. UDP datagrams are read directly by the QUIC reader; relay
// datagrams are queued by the relay pumps, which interrupt a blocked UDP
// read by setting a past read deadline. That keeps the direct path free of
// any goroutine hop or copy.
type socket struct {
	udp *net.UDPConn
	// direct reads and writes the UDP socket with the quic package's
	// segmentation and receive offloads (GSO/GRO) where the kernel has them.
	direct  quic.Transport
	relays  *relaySet
	metrics *Metrics

	inbox chan relayDatagram
	woken atomic.Bool // a wake deadline may be set on udp

	// closing is set when the endpoint starts closing; relay sends after it
	// (the CONNECTION_CLOSE packets) set closeSent, and Close then lets the
	// relay clients write them out before stopping them.
	closing, closeSent atomic.Bool

	closeOnce sync.Once
	closed    chan struct{}
}

func newSocket(udp *net.UDPConn, m *Metrics) *socket {
	return &socket{
		udp:     udp,
		direct:  quic.NewUDPTransport(udp),
		metrics: m,
		inbox:   make(chan relayDatagram, inboxLen),
		closed:  make(chan struct{}),
	}
}

// ReadFrom returns the next datagram from either the relays or UDP.
func (s *socket) ReadFrom(p []byte) (int, quic.Addr, error) {
	for {
		// Clear the wake-up before looking at the inbox: a datagram queued
		// after this point sets the deadline again, so none is missed.
		if s.woken.Load() {
			s.woken.Store(false)
			if err := s.udp.SetReadDeadline(time.Time{}); err != nil {
				return 0, quic.Addr{}, err
			}
		}
		select {
		case d := <-s.inbox:
			if len(d.payload) > len(p) {
				s.metrics.RecvDropped.Add(1)
				continue
			}
			s.metrics.RecvDatagrams.Add(1)
			return copy(p, d.payload), d.from, nil
		case <-s.closed:
			return 0, quic.Addr{}, net.ErrClosed
		default:
		}
		n, from, err := s.direct.ReadFrom(p)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return 0, quic.Addr{}, err
		}
		if from.UDP.Addr().Is4() {
			s.metrics.RecvDataIPv4.Add(1)
		} else {
			s.metrics.RecvDataIPv6.Add(1)
		}
		s.metrics.RecvDatagrams.Add(1)
		return n, from, nil
	}
}

// deliver queues a relay datagram for ReadFrom, waiting while the inbox is
// full (the relay client's own queue absorbs bursts behind it).
func (s *socket) deliver(d relayDatagram) {
	select {
	case s.inbox <- d:
	case <-s.closed:
		return
	}
	s.metrics.RecvDataRelay.Add(1)
	if s.woken.CompareAndSwap(false, true) {
		_ = s.udp.SetReadDeadline(wakeDeadline)
	}
}

// WriteTo sends p over UDP or through the relay the address names. A full
// relay queue drops the datagram, as a congested link would: QUIC's loss
// recovery resends what mattered.
func (s *socket) WriteTo(p []byte, to quic.Addr) error {
	if to.IsRelay() {
		return s.writeRelay(p, to.Relay)
	}
	if !to.UDP.IsValid() {
		return quic.ErrUnsupportedAddr
	}
	if err := s.direct.WriteTo(p, to); err != nil {
		return err
	}
	s.countSent(to, 1)
	return nil
}

// WriteBatch makes the socket a quic.BatchWriter: a run of same-size
// datagrams goes out in one GSO send on UDP, or one by one to a relay.
func (s *socket) WriteBatch(b []byte, segSize int, to quic.Addr) error {
	if !to.IsRelay() {
		if !to.UDP.IsValid() {
			return quic.ErrUnsupportedAddr
		}
		if err := s.direct.(quic.BatchWriter).WriteBatch(b, segSize, to); err != nil {
			return err
		}
		s.countSent(to, (len(b)+segSize-1)/segSize)
		return nil
	}
	for len(b) > 0 {
		n := min(segSize, len(b))
		if err := s.writeRelay(b[:n], to.Relay); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (s *socket) countSent(to quic.Addr, datagrams int) {
	if to.UDP.Addr().Unmap().Is4() {
		s.metrics.SendIPv4.Add(int64(datagrams))
	} else {
		s.metrics.SendIPv6.Add(int64(datagrams))
	}
}

func (s *socket) writeRelay(p []byte, to quic.RelayAddr) error {
	link, err := s.relays.get(to.URL)
	if err != nil {
		s.metrics.SendRelayError.Add(1)
		return err
	}
	err = link.client.Send(context.Background(), to.Peer, 0, p)
	if err != nil {
		s.metrics.SendRelayError.Add(1)
		if errors.Is(err, relay.ErrQueueFull) {
			return nil
		}
		return err
	}
	s.metrics.SendRelay.Add(1)
	if s.closing.Load() {
		s.closeSent.Store(true)
	}
	return nil
}

// Close stops the relay clients and closes the UDP socket, which unblocks
// ReadFrom.
func (s *socket) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.closeSent.Load() {
			// The relay client has no flush; its writer takes queued
			// frames within microseconds, so a short pause suffices.
			time.Sleep(relayCloseLinger)
		}
		s.relays.close()
		err = s.udp.Close()
	})
	return err
}

func (s *socket) LocalAddr() net.Addr { return s.udp.LocalAddr() }
