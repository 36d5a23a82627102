//go:build linux

package quic

import (
	"encoding/binary"
	"errors"
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
