package quic

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/alkdev/irohspoke/quic/internal/core"
)

// Addr names a network path: a UDP address or a relay path. It is
// comparable and can key maps.
type Addr = core.Addr

// RelayAddr names a path through a relay server to a peer.
type RelayAddr = core.RelayAddr

// UDPAddr returns the Addr of a direct UDP path.
func UDPAddr(ap netip.AddrPort) Addr { return core.UDPAddr(ap) }

// Transport carries datagrams for an Endpoint: a UDP socket here, or the
// iroh socket layer that adds relay paths. ReadFrom is called from a single
// goroutine; WriteTo may be called concurrently. Close must unblock ReadFrom.
type Transport interface {
	ReadFrom(p []byte) (n int, from Addr, err error)
	WriteTo(p []byte, to Addr) error
	Close() error
	LocalAddr() net.Addr
}

// BatchWriter is an optional Transport extension: WriteBatch sends b as
// consecutive datagrams of segSize bytes (the last may be shorter), all
// to the same address, in as few system calls as it can.
type BatchWriter interface {
	WriteBatch(b []byte, segSize int, to Addr) error
}

// maxGSOSegments is the kernel's UDP_MAX_SEGMENTS.
const maxGSOSegments = 64

// udpTransport is a Transport over one UDP socket.
type udpTransport struct {
	conn  *net.UDPConn
	noGSO atomic.Bool // the kernel refused segmentation offload once

	// Receive offload (GRO): one read may carry several datagrams; the
	// rest wait here for the next ReadFrom (a single reader goroutine).
	gro     bool
	groBuf  []byte
	groOOB  []byte
	pending []byte // unread segments of the last coalesced read
	segSize int
	from    Addr
}

func newUDPTransport(c *net.UDPConn) *udpTransport {
	// Bulk transfers outrun the default socket buffers; failures are
	// harmless (the kernel caps the size).
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	setDontFragment(c)
	t := &udpTransport{conn: c}
	if enableGRO(c) {
		t.gro = true
		t.groBuf = make([]byte, groReadBuf)
		t.groOOB = make([]byte, groControlLen)
	}
	return t
}

// ListenUDP opens a UDP socket transport on address ("127.0.0.1:0", ":4433").
func ListenUDP(address string) (Transport, error) {
	ua, err := net.ResolveUDPAddr("udp", address)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	return newUDPTransport(c), nil
}

func (t *udpTransport) ReadFrom(p []byte) (int, Addr, error) {
	if !t.gro {
		n, ap, err := t.conn.ReadFromUDPAddrPort(p)
		if err != nil {
			return 0, Addr{}, err
		}
		return n, udpFrom(ap), nil
	}
	if len(t.pending) == 0 {
		n, oobn, _, ap, err := t.conn.ReadMsgUDPAddrPort(t.groBuf, t.groOOB)
		if err != nil {
			return 0, Addr{}, err
		}
		t.pending, t.from = t.groBuf[:n], udpFrom(ap)
		t.segSize = groSegmentSize(t.groOOB[:oobn])
		if t.segSize <= 0 {
			t.segSize = n
		}
	}
	seg := t.pending[:min(t.segSize, len(t.pending))]
	t.pending = t.pending[len(seg):]
	return copy(p, seg), t.from, nil
}

func udpFrom(ap netip.AddrPort) Addr {
	return core.UDPAddr(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

func (t *udpTransport) WriteTo(p []byte, to Addr) error {
	if to.IsRelay() || !to.UDP.IsValid() {
		return ErrUnsupportedAddr
	}
	_, err := t.conn.WriteToUDPAddrPort(p, to.UDP)
	return err
}

// WriteBatch uses UDP generic segmentation offload where the kernel has
// it, and single sends otherwise.
func (t *udpTransport) WriteBatch(b []byte, segSize int, to Addr) error {
	if to.IsRelay() || !to.UDP.IsValid() {
		return ErrUnsupportedAddr
	}
	if gsoSupported && !t.noGSO.Load() && len(b) > segSize {
		_, _, err := t.conn.WriteMsgUDPAddrPort(b, gsoControl(segSize), to.UDP)
		if err == nil || !gsoUnsupported(err) {
			return err
		}
		t.noGSO.Store(true)
	}
	for len(b) > 0 {
		n := min(segSize, len(b))
		if _, err := t.conn.WriteToUDPAddrPort(b[:n], to.UDP); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (t *udpTransport) Close() error        { return t.conn.Close() }
func (t *udpTransport) LocalAddr() net.Addr { return t.conn.LocalAddr() }
