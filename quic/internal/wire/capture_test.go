package wire_test

// Decrypts and parses every QUIC packet of a real iroh 1.0 handshake capture
// (testdata/handshake.pcap, secrets in testdata/gdb-keylog.txt) and compares
// the result with the independent decode in testdata/handshake.quicdec.txt.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/protection"
	"github.com/alkdev/irohspoke/quic/internal/wire"
)

// readPcap returns the UDP payloads of a little-endian Ethernet pcap file.
func readPcap(t *testing.T, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
		t.Fatal("not a little-endian microsecond pcap")
	}
	if lt := binary.LittleEndian.Uint32(data[20:]); lt != 1 {
		t.Fatalf("link type %d, want Ethernet", lt)
	}
	var out [][]byte
	for off := 24; off < len(data); {
		if len(data)-off < 16 {
			t.Fatal("truncated record header")
		}
		n := int(binary.LittleEndian.Uint32(data[off+8:]))
		rec := data[off+16 : off+16+n]
		off += 16 + n
		var l4 []byte
		switch binary.BigEndian.Uint16(rec[12:14]) {
		case 0x0800:
			ip := rec[14:]
			if ip[9] != 17 {
				continue
			}
			l4 = ip[int(ip[0]&0x0f)*4 : binary.BigEndian.Uint16(ip[2:4])]
		case 0x86dd:
			ip := rec[14:]
			if ip[6] != 17 {
				continue
			}
			l4 = ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:6]))]
		default:
			continue
		}
		out = append(out, l4[8:binary.BigEndian.Uint16(l4[4:6])])
	}
	return out
}

func readKeylog(t *testing.T, name string) map[string][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secrets := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		s, err := hex.DecodeString(fields[2])
		if err != nil {
			t.Fatal(err)
		}
		secrets[fields[0]] = s
	}
	return secrets
}

type direction int

const (
	clientToServer direction = iota
	serverToClient
)

func (d direction) String() string { return [...]string{"C->S", "S->C"}[d] }

func (d direction) reverse() direction { return 1 - d }

var spaceNames = map[wire.PacketType]string{
	wire.PacketInitial: "Initial", wire.PacketHandshake: "Handshake", wire.Packet1RTT: "1RTT",
}

// quicdecName maps a frame to the name the reference decoder prints.
func quicdecName(f *wire.Frame) string {
	switch f.Type {
	case wire.FrameAckECN:
		return "ACK"
	case wire.FramePathAckECN:
		return "PATH_ACK"
	case wire.FrameConnectionClose:
		return "CONNECTION_CLOSE(transport)"
	case wire.FrameApplicationClose:
		return "CONNECTION_CLOSE(app)"
	case wire.FrameAddAddressIPv4, wire.FrameAddAddressIPv6:
		return "N0_ADD_ADDRESS"
	case wire.FrameReachOutIPv4, wire.FrameReachOutIPv6:
		return "N0_REACH_OUT"
	}
	return f.Type.String()
}

type cidInfo struct {
	dir  direction
	path uint32
}

type captureState struct {
	t *testing.T
	// cids maps a connection ID to the direction of packets that use it as
	// DCID and the multipath path it belongs to.
	cids     map[string]cidInfo
	keys     map[wire.PacketType][2]protection.Keys
	oneRTT   [2][2]*protection.PacketKeys // [dir][key phase]
	oneRTTHP [2]*protection.HeaderKey
	largest  map[string]int64
	crypto   map[string][]byte // reassembled CRYPTO data per dir/space
	counts   map[string]int
	paths    map[string]int
	packets  int
	// pathPackets counts packets on path IDs above zero.
	pathPackets int
}

func TestIrohCapture(t *testing.T) {
	datagrams := readPcap(t, "testdata/handshake.pcap")
	secrets := readKeylog(t, "testdata/gdb-keylog.txt")
	if len(datagrams) != 63 {
		t.Fatalf("%d datagrams, want 63", len(datagrams))
	}

	// The client's first Initial fixes the Initial keys and the CIDs.
	first, err := wire.ParseHeader(datagrams[0], 0)
	if err != nil || first.Type != wire.PacketInitial {
		t.Fatalf("first packet: %+v %v", first, err)
	}
	odcid := append([]byte(nil), first.DCID...)
	client, server := protection.InitialKeys(odcid)
	st := &captureState{
		t:       t,
		cids:    map[string]cidInfo{string(odcid): {clientToServer, 0}, string(first.SCID): {serverToClient, 0}},
		keys:    map[wire.PacketType][2]protection.Keys{wire.PacketInitial: {client, server}},
		largest: map[string]int64{},
		crypto:  map[string][]byte{},
		counts:  map[string]int{},
		paths:   map[string]int{},
	}

	for i, dg := range datagrams {
		for len(dg) > 0 {
			pkt, rest, h, err := wire.SplitPacket(dg, 8)
			if err != nil {
				t.Fatalf("datagram #%d: %v", i+1, err)
			}
			dg = rest
			st.packet(i+1, pkt, h, secrets)
		}
	}

	wantCounts, wantPaths := readQuicdecTotals(t, "testdata/handshake.quicdec.txt")
	if !maps.Equal(st.counts, wantCounts) {
		t.Errorf("frame counts differ from quicdec:\n got %v\nwant %v", sorted(st.counts), sorted(wantCounts))
	}
	if !maps.Equal(st.paths, wantPaths) {
		t.Errorf("1-RTT path table differs:\n got %v\nwant %v", sorted(st.paths), sorted(wantPaths))
	}
	if st.packets != 65 {
		t.Errorf("decrypted %d packets, want 65", st.packets)
	}
	if st.pathPackets != 6 {
		t.Errorf("%d packets on path 1, want 6", st.pathPackets)
	}
	checkTransportParameters(t, st, odcid, first.SCID)
}

func (s *captureState) packet(n int, pkt []byte, h wire.Header, secrets map[string][]byte) {
	t := s.t
	if h.Type == wire.PacketInitial && h.SCID != nil {
		// The server's first Initial introduces its CID.
		if _, ok := s.cids[string(h.SCID)]; !ok {
			s.cids[string(h.SCID)] = cidInfo{clientToServer, 0}
		}
	}
	info, ok := s.cids[string(h.DCID)]
	if !ok {
		t.Fatalf("#%d: unknown DCID %x", n, h.DCID)
	}
	dir := info.dir
	pkt = append([]byte(nil), pkt...) // decrypt in place on a copy

	var hk *protection.HeaderKey
	if h.Type == wire.Packet1RTT {
		s.ensureOneRTT(secrets)
		hk = s.oneRTTHP[dir]
	} else {
		if h.Type == wire.PacketHandshake {
			s.ensureHandshake(secrets)
		}
		hk = s.keys[h.Type][dir].Header
	}
	pnLen, err := hk.Remove(pkt, h.PNOffset)
	if err != nil {
		t.Fatalf("#%d: header protection: %v", n, err)
	}
	truncated, _ := wire.ReadPacketNumber(pkt[h.PNOffset:], pnLen)
	key := fmt.Sprint(dir, h.Type, info.path)
	largest, seen := s.largest[key]
	if !seen {
		largest = wire.NoPacketAcked
	}
	pn := wire.DecodePacketNumber(largest, truncated, pnLen)
	if int64(pn) > largest {
		s.largest[key] = int64(pn)
	}
	end := h.PNOffset + pnLen
	var pk *protection.PacketKeys
	if h.Type == wire.Packet1RTT {
		phase := 0
		if pkt[0]&0x04 != 0 {
			phase = 1
		}
		pk = s.oneRTT[dir][phase]
	} else {
		pk = s.keys[h.Type][dir].Packet
	}
	if info.path != 0 {
		s.pathPackets++
		// Packets on other paths must need the multipath nonce.
		if _, err := pk.Open(nil, pkt[:end], pkt[end:], pn); err == nil {
			t.Fatalf("#%d: path %d packet opened with the path-0 nonce", n, info.path)
		}
	}
	payload, err := pk.OpenPath(pkt[end:end], pkt[:end], pkt[end:], info.path, pn)
	if err != nil {
		t.Fatalf("#%d %s %s pn=%d path=%d: %v", n, dir, h.Type, pn, info.path, err)
	}
	s.packets++
	if h.Type == wire.Packet1RTT {
		s.paths[fmt.Sprintf("%s path %d dcid %x", dir, info.path, h.DCID)]++
	}
	s.frames(n, dir, h.Type, payload)
}

func (s *captureState) frames(n int, dir direction, pt wire.PacketType, payload []byte) {
	t := s.t
	if len(payload) == 0 {
		t.Fatalf("#%d: empty payload", n)
	}
	for len(payload) > 0 {
		f, used, err := wire.Parse(payload)
		if err != nil {
			t.Fatalf("#%d %s %s: frame: %v", n, dir, pt, err)
		}
		if err := wire.CheckAllowed(f.Type, pt); err != nil {
			t.Fatalf("#%d: %v", n, err)
		}
		// Re-encoding a parsed frame must give back the same bytes
		// (iroh uses minimal encodings throughout).
		if enc, err := f.Append(nil); err != nil || !bytes.Equal(enc, payload[:used]) || f.Len() != used {
			t.Fatalf("#%d: %s re-encodes to %x (%v), want %x", n, f.Type, enc, err, payload[:used])
		}
		payload = payload[used:]
		s.counts[fmt.Sprintf("%s %s %s", dir, spaceNames[pt], quicdecName(&f))]++

		switch f.Type {
		case wire.FramePathNewConnectionID, wire.FrameNewConnectionID:
			// A CID issued by one side is the DCID of the other side's
			// packets.
			s.cids[string(f.ConnID)] = cidInfo{dir.reverse(), uint32(f.PathID)}
		case wire.FrameCrypto:
			k := fmt.Sprint(dir, pt)
			buf := s.crypto[k]
			if f.Offset != uint64(len(buf)) {
				t.Fatalf("#%d: out-of-order CRYPTO data", n)
			}
			s.crypto[k] = append(buf, f.Data...)
		}
	}
}

// serverSuite reads the cipher suite from the reassembled ServerHello.
func (s *captureState) serverSuite() protection.Suite {
	sh := s.crypto[fmt.Sprint(serverToClient, wire.PacketInitial)]
	if len(sh) < 40 || sh[0] != 2 {
		s.t.Fatal("no ServerHello before Handshake packets")
	}
	sidLen := int(sh[38])
	return protection.Suite(binary.BigEndian.Uint16(sh[39+sidLen:]))
}

func (s *captureState) mustKeys(suite protection.Suite, secret []byte) protection.Keys {
	k, err := protection.NewKeys(suite, secret)
	if err != nil {
		s.t.Fatal(err)
	}
	return k
}

func (s *captureState) ensureHandshake(secrets map[string][]byte) {
	if _, ok := s.keys[wire.PacketHandshake]; ok {
		return
	}
	suite := s.serverSuite()
	if suite != protection.AES256GCMSHA384 {
		s.t.Errorf("suite %#x, ground truth says 0x1302", uint16(suite))
	}
	s.keys[wire.PacketHandshake] = [2]protection.Keys{
		s.mustKeys(suite, secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]),
		s.mustKeys(suite, secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"]),
	}
}

func (s *captureState) ensureOneRTT(secrets map[string][]byte) {
	if s.oneRTT[0][0] != nil {
		return
	}
	suite := s.serverSuite()
	for dir, label := range []string{"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} {
		k := s.mustKeys(suite, secrets[label])
		next, err := k.Packet.Next()
		if err != nil {
			s.t.Fatal(err)
		}
		s.oneRTT[dir] = [2]*protection.PacketKeys{k.Packet, next}
		s.oneRTTHP[dir] = k.Header
	}
}

// readQuicdecTotals reads the two summary tables at the end of the
// reference decode.
func readQuicdecTotals(t *testing.T, name string) (counts, paths map[string]int) {
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	counts, paths = map[string]int{}, map[string]int{}
	var cur map[string]int
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.HasPrefix(line, "== 1-RTT"):
			cur = paths
		case strings.HasPrefix(line, "== frame counts"):
			cur = counts
		case strings.HasPrefix(line, "== "), strings.HasPrefix(line, "#"):
			cur = nil
		case cur != nil && strings.TrimSpace(line) != "":
			fields := strings.Fields(line)
			n, err := strconv.Atoi(fields[len(fields)-1])
			if err != nil {
				t.Fatalf("bad summary line %q", line)
			}
			cur[strings.Join(fields[:len(fields)-1], " ")] = n
		}
	}
	if len(counts) == 0 || len(paths) == 0 {
		t.Fatal("summary tables not found")
	}
	return counts, paths
}

func sorted(m map[string]int) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return out
}
