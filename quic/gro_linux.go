//go:build linux

package quic

import (
	"encoding/binary"
	"net"
	"syscall"
)

// udpGRO is the UDP_GRO socket option (linux/udp.h): the kernel may hand
// several consecutive datagrams from one sender to one read, with their
// size in a control message. On loopback, a GSO send arrives this way
// whole, which halves the system calls of a bulk transfer.
const udpGRO = 104

// groReadBuf holds one coalesced read: 64 segments of up to 1500 bytes
// fit, which is what the kernel coalesces at most.
const groReadBuf = 64 * 1024

func enableGRO(c *net.UDPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		ok = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpGRO, 1) == nil
	})
	return ok
}

// groControlLen is room for the UDP_GRO control message.
var groControlLen = syscall.CmsgSpace(4)

// groSegmentSize returns the segment size from a read's control messages,
// or 0 when the read holds a single datagram.
func groSegmentSize(oob []byte) int {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.IPPROTO_UDP && m.Header.Type == udpGRO && len(m.Data) >= 4 {
			return int(binary.NativeEndian.Uint32(m.Data))
		}
	}
	return 0
}
