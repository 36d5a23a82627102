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
	// Bulk transfers outrun the default socket buffers; failures are
	// harmless (the kernel caps the size).
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	setDontFragment(c)
	return &udpTransport{conn: c}, nil
}

func (t *udpTransport) ReadFrom(p []byte) (int, Addr, error) {
	n, ap, err := t.conn.ReadFromUDPAddrPort(p)
	if err != nil {
		return 0, Addr{}, err
	}
	return n, core.UDPAddr(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())), nil
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
