//go:build linux

package natlab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// ErrNetlink means a conntrack netlink request failed or got a reply that
// could not be read.
var ErrNetlink = errors.New("natlab: conntrack netlink")

// Netlink constants for one ctnetlink request (linux/netlink.h,
// linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h).
const (
	nlmsgHdrLen     = 16
	nlmsgError      = 2
	nlmsgDone       = 3
	nlmFRequest     = 0x1
	nlmFAck         = 0x4
	nfnlSubsysCT    = 1
	ipctnlMsgDelete = 2
	flushSeq        = 1
)

// FlushConntrack deletes every IPv4 conntrack entry in the host's
// namespace, as "conntrack -F" does, without that tool: one ctnetlink
// delete request with no tuple. On a NAT router this drops every mapping.
func (h *Host) FlushConntrack() error {
	return h.do(func() error {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("%w: socket: %v", ErrNetlink, err)
		}
		defer syscall.Close(fd)
		kernel := &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}
		if err := syscall.Sendto(fd, flushRequest(), 0, kernel); err != nil {
			return fmt.Errorf("%w: send: %v", ErrNetlink, err)
		}
		buf := make([]byte, 4096)
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("%w: receive: %v", ErrNetlink, err)
		}
		return parseNetlinkAck(buf[:n], flushSeq)
	})
}

// flushRequest is nlmsghdr + nfgenmsg{AF_INET, NFNETLINK_V0, res_id 0}.
func flushRequest() []byte {
	b := make([]byte, nlmsgHdrLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nfnlSubsysCT<<8|ipctnlMsgDelete)
	ne.PutUint16(b[6:], nlmFRequest|nlmFAck)
	ne.PutUint32(b[8:], flushSeq)
	b[16] = syscall.AF_INET
	return b
}

// parseNetlinkAck reads the kernel's answer to request seq: nil for an
// acknowledgement (an error message with code 0), the errno otherwise.
func parseNetlinkAck(b []byte, seq uint32) error {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		n := int(ne.Uint32(b[0:]))
		if n < nlmsgHdrLen || n > len(b) {
			return fmt.Errorf("%w: message length %d of %d bytes", ErrNetlink, n, len(b))
		}
		typ, gotSeq := ne.Uint16(b[4:]), ne.Uint32(b[8:])
		switch {
		case gotSeq != seq:
		case typ == nlmsgError && n < nlmsgHdrLen+4:
			return fmt.Errorf("%w: short error message", ErrNetlink)
		case typ == nlmsgError:
			if code := int32(ne.Uint32(b[nlmsgHdrLen:])); code != 0 {
				return fmt.Errorf("%w: %w", ErrNetlink, syscall.Errno(-int64(code)))
			}
			return nil
		case typ == nlmsgDone:
			return nil
		}
		b = b[min(len(b), (n+3)&^3):]
	}
	return fmt.Errorf("%w: no acknowledgement", ErrNetlink)
}

// ConntrackCount is the number of conntrack entries in the host's
// namespace (net.netfilter.nf_conntrack_count).
func (h *Host) ConntrackCount(ctx context.Context) (int, error) {
	out, err := h.Exec(ctx, "cat", "/proc/sys/net/netfilter/nf_conntrack_count")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("natlab: %s: nf_conntrack_count %q: %w", h.Name, out, err)
	}
	return n, nil
}
