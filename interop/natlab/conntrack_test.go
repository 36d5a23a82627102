//go:build linux

package natlab

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
)

// netlinkMsg builds one netlink message of type typ for seq with body.
func netlinkMsg(typ uint16, seq uint32, body []byte) []byte {
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body)+3)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(nlmsgHdrLen+len(body)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	b = append(b, body...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func errnoBody(code int32) []byte {
	b := make([]byte, 4+nlmsgHdrLen)
	binary.NativeEndian.PutUint32(b, uint32(code))
	return b
}

func TestParseNetlinkAck(t *testing.T) {
	if err := parseNetlinkAck(netlinkMsg(nlmsgError, flushSeq, errnoBody(0)), flushSeq); err != nil {
		t.Fatalf("ack: %v", err)
	}
	err := parseNetlinkAck(netlinkMsg(nlmsgError, flushSeq, errnoBody(-int32(syscall.EPERM))), flushSeq)
	if !errors.Is(err, ErrNetlink) || !errors.Is(err, syscall.EPERM) {
		t.Fatalf("EPERM answer gave %v", err)
	}
	// Another request's answer first, then ours.
	two := append(netlinkMsg(nlmsgError, 7, errnoBody(-1)), netlinkMsg(nlmsgError, flushSeq, errnoBody(0))...)
	if err := parseNetlinkAck(two, flushSeq); err != nil {
		t.Fatalf("ack after another message: %v", err)
	}
	for name, bad := range map[string][]byte{
		"empty":        nil,
		"short header": make([]byte, 10),
		"length zero":  make([]byte, nlmsgHdrLen),
		"short error":  netlinkMsg(nlmsgError, flushSeq, []byte{1}),
		"other seq":    netlinkMsg(nlmsgError, 9, errnoBody(0)),
	} {
		if err := parseNetlinkAck(bad, flushSeq); !errors.Is(err, ErrNetlink) {
			t.Errorf("%s: got %v, want ErrNetlink", name, err)
		}
	}
}

func TestFlushRequestLayout(t *testing.T) {
	b := flushRequest()
	ne := binary.NativeEndian
	if len(b) != 20 || ne.Uint32(b) != 20 || ne.Uint16(b[4:]) != 0x0102 || ne.Uint16(b[6:]) != 5 || b[16] != syscall.AF_INET {
		t.Fatalf("flush request % x", b)
	}
}

func FuzzParseNetlinkAck(f *testing.F) {
	f.Add(netlinkMsg(nlmsgError, flushSeq, errnoBody(0)))
	f.Add(netlinkMsg(nlmsgError, flushSeq, errnoBody(-2)))
	f.Add(netlinkMsg(nlmsgDone, flushSeq, nil))
	f.Add(append(netlinkMsg(0x10, flushSeq, []byte{1, 2, 3}), netlinkMsg(nlmsgError, flushSeq, errnoBody(0))...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := parseNetlinkAck(b, flushSeq); err != nil && !errors.Is(err, ErrNetlink) {
			t.Fatalf("error %v is not ErrNetlink", err)
		}
	})
}
