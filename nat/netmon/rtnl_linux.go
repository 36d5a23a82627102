package netmon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/alkdev/irohspoke/nat/gateway"
)

// recvSize fits any chunk of our dumps: the kernel fills at most 32 KiB
// unless one message needs more (VF details, which we do not ask for); a
// cut chunk is an error, and ReadState falls back.
const (
	recvSize     = 32 << 10
	maxDumpBytes = 16 << 20
)

var errStale = errors.New("netmon: netlink reply to another request")

// readStateNetlink takes the snapshot with three dumps (links, addresses,
// routes) over one netlink socket.
func readStateNetlink() (State, error) {
	c, err := dialRIB()
	if err != nil {
		return State{}, err
	}
	defer c.close()
	b, err := c.dump(rtmGetLink)
	if err != nil {
		return State{}, err
	}
	links, err := parseLinkDump(b)
	if err != nil {
		return State{}, err
	}
	if b, err = c.dump(rtmGetAddr); err != nil {
		return State{}, err
	}
	addrs, err := parseAddrDump(b)
	if err != nil {
		return State{}, err
	}
	routes, err := c.defaultRoutes()
	if err != nil {
		routes, _ = gateway.DefaultRoutes() // it also tries /proc/net/route
	}
	return buildState(links, addrs, routes), nil
}

func (c *ribConn) defaultRoutes() ([]gateway.Route, error) {
	b, err := c.dump(rtmGetRoute)
	if err != nil {
		return nil, err
	}
	return gateway.ParseRouteDump(b)
}

// ribConn is a netlink route socket for dumps, one at a time.
type ribConn struct {
	fd   int
	seq  uint32
	buf  []byte // one datagram
	msgs []byte // the last dump's messages
}

func dialRIB() (*ribConn, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netmon: netlink socket: %w", err)
	}
	return &ribConn{fd: fd, buf: make([]byte, recvSize)}, nil
}

func (c *ribConn) close() { syscall.Close(c.fd) }

// dump requests a dump of all families and returns its messages, valid
// until the next dump.
func (c *ribConn) dump(typ uint16) ([]byte, error) {
	c.seq++
	req := make([]byte, syscall.NLMSG_HDRLEN+1) // the body: rtgenmsg, family AF_UNSPEC
	binary.NativeEndian.PutUint32(req[0:4], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:6], typ)
	binary.NativeEndian.PutUint16(req[6:8], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:12], c.seq)
	if err := syscall.Sendto(c.fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netmon: netlink send: %w", err)
	}
	c.msgs = c.msgs[:0]
	for {
		chunk, err := c.read()
		if err != nil {
			return nil, err
		}
		done, err := gateway.EachMessage(chunk, func(m gateway.NetlinkMessage) error {
			if m.Seq != c.seq {
				return errStale
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(c.msgs)+len(chunk) > maxDumpBytes {
			return nil, fmt.Errorf("netmon: netlink dump over %d bytes", maxDumpBytes)
		}
		c.msgs = append(c.msgs, chunk...)
		if done {
			return c.msgs, nil
		}
	}
}

// read receives one datagram from the kernel.
func (c *ribConn) read() ([]byte, error) {
	for {
		n, from, err := syscall.Recvfrom(c.fd, c.buf, syscall.MSG_TRUNC)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, fmt.Errorf("netmon: netlink receive: %w", err)
		case n > len(c.buf):
			return nil, fmt.Errorf("netmon: netlink message of %d bytes cut to %d", n, len(c.buf))
		}
		if sa, ok := from.(*syscall.SockaddrNetlink); ok && sa.Pid == 0 {
			return c.buf[:n], nil
		}
		// Not from the kernel: ignore it.
	}
}
