package websocket

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// CloseCode is a WebSocket close status code.
type CloseCode uint16

// Close codes used by the relay (RFC 6455 §7.4.1).
const (
	CloseNormal          CloseCode = 1000
	CloseGoingAway       CloseCode = 1001
	CloseProtocolError   CloseCode = 1002
	CloseUnsupported     CloseCode = 1003
	CloseNoStatus        CloseCode = 1005 // never sent; "no code in the frame"
	CloseAbnormal        CloseCode = 1006 // never sent; "no close frame at all"
	CloseInvalidData     CloseCode = 1007
	ClosePolicyViolation CloseCode = 1008
	CloseTooBig          CloseCode = 1009
	CloseInternalError   CloseCode = 1011
)

// sendable reports whether c may appear in a close frame.
func (c CloseCode) sendable() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// CloseError is returned by reads once the peer sent a close frame.
type CloseError struct {
	Code   CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket: closed by peer (%d)", e.Code)
	}
	return fmt.Sprintf("websocket: closed by peer (%d %q)", e.Code, e.Reason)
}

// ParseClosePayload decodes a close frame's payload. An empty payload means
// CloseNoStatus.
func ParseClosePayload(p []byte) (CloseCode, string, error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", nil
	case len(p) == 1:
		return 0, "", ErrBadClosePayload
	}
	c := CloseCode(binary.BigEndian.Uint16(p))
	if !c.sendable() || !utf8.Valid(p[2:]) {
		return 0, "", ErrBadClosePayload
	}
	return c, string(p[2:]), nil
}

// AppendClosePayload appends a close payload; the reason is truncated to
// fit a control frame.
func AppendClosePayload(dst []byte, c CloseCode, reason string) []byte {
	if len(reason) > maxControlPayload-2 {
		reason = reason[:maxControlPayload-2]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(c))
	return append(dst, reason...)
}
