package netmon

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// addDumpSeeds adds real messages followed by the real dump's
// NLMSG_DONE, cuts and garbage. The seeds stay small: the fuzzer spends
// up to a minute minimizing each input it finds interesting, and longer
// the larger the input (the whole dumps are parsed by
// TestBuildStateFromCapturedDumps).
func addDumpSeeds(f *testing.F, dump, msgs []byte) {
	real := append(slices.Clone(msgs), dump[len(dump)-20:]...) // NLMSG_DONE is 20 bytes
	f.Add(real)
	for _, n := range []int{len(real) / 2, len(real) - 3, 17, 15} {
		f.Add(real[:n])
	}
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
}

// messageAt returns the i-th message of a well-formed dump, cut after
// its first attrs attributes (its length fixed up) when attrs >= 0.
func messageAt(dump []byte, i, fixed, attrs int) []byte {
	length := func(b []byte) int { return int(binary.NativeEndian.Uint32(b)) }
	for range i {
		dump = dump[(length(dump)+3)&^3:]
	}
	msg := slices.Clone(dump[:length(dump)])
	if attrs < 0 {
		return msg
	}
	end := 16 + fixed
	for range attrs {
		end += (int(binary.NativeEndian.Uint16(msg[end:])) + 3) &^ 3
	}
	binary.NativeEndian.PutUint32(msg, uint32(end))
	return msg[:end]
}

// The smallest messages each parser returns an entry for: allocation is
// bounded by the input.
const (
	minLinkMessage = 16 + ifinfomsgLen
	minAddrMessage = 16 + ifaddrmsgLen + 8
)

// FuzzParseLinkDump: any bytes parse or are refused without panicking;
// no more links than messages fit, names without NUL.
func FuzzParseLinkDump(f *testing.F) {
	l, _, _ := readDumps(f)
	// Link messages are 1.5 kB, mostly statistics: the name and a few
	// more attributes of lo and a1 are seeds enough.
	addDumpSeeds(f, l, append(messageAt(l, 0, ifinfomsgLen, 6), messageAt(l, 1, ifinfomsgLen, 6)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		links, err := parseLinkDump(b)
		if err != nil {
			return
		}
		if len(links) > len(b)/minLinkMessage {
			t.Fatalf("%d links from %d bytes", len(links), len(b))
		}
		for _, l := range links {
			if strings.IndexByte(l.name, 0) >= 0 {
				t.Fatalf("name %q", l.name)
			}
		}
	})
}

// FuzzParseAddrDump: any bytes parse or are refused without panicking;
// no more addresses than messages fit, each a valid IPv4 or IPv6 address.
func FuzzParseAddrDump(f *testing.F) {
	_, a, _ := readDumps(f)
	// 127.0.0.1/8, then 10.1.0.1/24 and 10.1.0.2/24, then b0's
	// point-to-point 10.2.0.1 (IFA_LOCAL and the peer in IFA_ADDRESS).
	addDumpSeeds(f, a, slices.Concat(messageAt(a, 0, 0, -1), messageAt(a, 1, 0, -1), messageAt(a, 2, 0, -1), messageAt(a, 5, 0, -1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		addrs, err := parseAddrDump(b)
		if err != nil {
			return
		}
		if len(addrs) > len(b)/minAddrMessage {
			t.Fatalf("%d addresses from %d bytes", len(addrs), len(b))
		}
		for _, a := range addrs {
			if ip := a.prefix.Addr(); !ip.Is4() && !ip.Is6() {
				t.Fatalf("address %+v", a)
			}
		}
	})
}
