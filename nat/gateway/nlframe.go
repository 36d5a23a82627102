package gateway

import (
	"encoding/binary"
	"fmt"
)

// The netlink framing shared by every rtnetlink dump parser (the routes
// here, links and addresses in netmon): messages, then attributes.

// NetlinkMessage is one message of a dump, its body after the header.
type NetlinkMessage struct {
	Type, Flags uint16
	Seq         uint32
	Body        []byte
}

// EachMessage calls fn for each message of a netlink dump (host byte
// order) until NLMSG_DONE; done reports whether it came. An NLMSG_ERROR
// message, or an NLMSG_DONE carrying a negative errno, is an error: a
// dump has no acknowledgements. fn's error stops the walk.
func EachMessage(b []byte, fn func(NetlinkMessage) error) (done bool, err error) {
	if len(b) > maxDumpBytes {
		return false, fmt.Errorf("%w: dump of %d bytes", ErrMalformed, len(b))
	}
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return false, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b))
		}
		n := int(binary.NativeEndian.Uint32(b[0:4]))
		if n < nlmsgHdrLen || n > len(b) {
			return false, fmt.Errorf("%w: message length %d of %d", ErrMalformed, n, len(b))
		}
		m := NetlinkMessage{
			Type:  binary.NativeEndian.Uint16(b[4:6]),
			Flags: binary.NativeEndian.Uint16(b[6:8]),
			Seq:   binary.NativeEndian.Uint32(b[8:12]),
			Body:  b[nlmsgHdrLen:n],
		}
		switch m.Type {
		case nlmsgDone:
			if len(m.Body) >= 4 && int32(binary.NativeEndian.Uint32(m.Body)) < 0 {
				return false, fmt.Errorf("%w: dump ended with errno %d", ErrMalformed, -int32(binary.NativeEndian.Uint32(m.Body)))
			}
			return true, nil
		case nlmsgError:
			return false, fmt.Errorf("%w: netlink error message", ErrMalformed)
		}
		if err := fn(m); err != nil {
			return false, err
		}
		b = b[min(align4(n), len(b)):]
	}
	return false, nil
}

// EachAttr calls fn for each attribute (rtattr) in b, the type without
// its nested and byte-order flags.
func EachAttr(b []byte, fn func(typ uint16, val []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%w: %d trailing attribute bytes", ErrMalformed, len(b))
		}
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < 4 || n > len(b) {
			return fmt.Errorf("%w: attribute length %d of %d", ErrMalformed, n, len(b))
		}
		if err := fn(binary.NativeEndian.Uint16(b[2:4])&0x3fff, b[4:n]); err != nil {
			return err
		}
		b = b[min(align4(n), len(b)):]
	}
	return nil
}

func align4(n int) int { return (n + 3) &^ 3 }
