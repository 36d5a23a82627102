//go:build linux

package quic

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
)

// udpSegment is the UDP_SEGMENT socket option (linux/udp.h): the kernel
// splits one large send into datagrams of the given size (UDP GSO).
const udpSegment = 103

const gsoSupported = true

// gsoControl returns the control message asking for segSize segments.
func gsoControl(segSize int) []byte {
	b := make([]byte, syscall.CmsgSpace(2))
	hdr := syscall.CmsgLen(0)
	if hdr == 16 {
		binary.NativeEndian.PutUint64(b, uint64(syscall.CmsgLen(2)))
		binary.NativeEndian.PutUint32(b[8:], syscall.IPPROTO_UDP)
		binary.NativeEndian.PutUint32(b[12:], udpSegment)
	} else {
		binary.NativeEndian.PutUint32(b, uint32(syscall.CmsgLen(2)))
		binary.NativeEndian.PutUint32(b[4:], syscall.IPPROTO_UDP)
		binary.NativeEndian.PutUint32(b[8:], udpSegment)
	}
	binary.NativeEndian.PutUint16(b[hdr:], uint16(segSize))
	return b
}

// gsoUnsupported reports errors that mean the socket or kernel cannot do
// GSO at all, so the transport stops trying.
func gsoUnsupported(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOPROTOOPT) || errors.Is(err, syscall.EOPNOTSUPP)
}

// ipv6PMTUDiscProbe is IPV6_PMTUDISC_PROBE (linux/in6.h).
const ipv6PMTUDiscProbe = 3

// setDontFragment sets DF on the socket's datagrams and stops the kernel
// from fragmenting or capping them by its own path MTU estimate, so that
// an oversized PMTU probe is dropped rather than fragmented and DPLPMTUD
// learns the real limit (RFC 8899 §3). Errors are ignored: without the
// option probes merely prove less.
func setDontFragment(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, syscall.IP_PMTUDISC_PROBE)
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_MTU_DISCOVER, ipv6PMTUDiscProbe)
	})
}
