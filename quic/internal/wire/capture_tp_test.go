package wire_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/alkdev/irohspoke/quic/internal/wire"
)

const extQUICTransportParameters = 0x39

// findExtension returns extension ext from a TLS extensions block (with
// its two-byte length prefix).
func findExtension(t *testing.T, b []byte, ext uint16) []byte {
	t.Helper()
	if len(b) < 2 || int(binary.BigEndian.Uint16(b)) != len(b)-2 {
		t.Fatal("bad extensions block")
	}
	for b = b[2:]; len(b) >= 4; {
		typ, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if typ == ext {
			return b[4 : 4+n]
		}
		b = b[4+n:]
	}
	t.Fatalf("extension %#x not found", ext)
	return nil
}

// clientHelloExtensions skips to the extensions of a ClientHello message.
func clientHelloExtensions(t *testing.T, m []byte) []byte {
	if m[0] != 1 {
		t.Fatal("not a ClientHello")
	}
	m = m[4 : 4+(int(m[1])<<16|int(m[2])<<8|int(m[3]))]
	off := 2 + 32
	off += 1 + int(m[off])                           // session id
	off += 2 + int(binary.BigEndian.Uint16(m[off:])) // cipher suites
	off += 1 + int(m[off])                           // compression
	return m[off : off+2+int(binary.BigEndian.Uint16(m[off:]))]
}

func checkTransportParameters(t *testing.T, st *captureState, odcid, clientSCID []byte) {
	t.Helper()
	ch := st.crypto[fmt.Sprint(clientToServer, wire.PacketInitial)]
	ee := st.crypto[fmt.Sprint(serverToClient, wire.PacketHandshake)]
	if len(ee) == 0 || ee[0] != 8 {
		t.Fatal("server Handshake data does not start with EncryptedExtensions")
	}
	clientTP := findExtension(t, clientHelloExtensions(t, ch), extQUICTransportParameters)
	serverTP := findExtension(t, ee[4:4+(int(ee[1])<<16|int(ee[2])<<8|int(ee[3]))], extQUICTransportParameters)

	cp, err := wire.UnmarshalTransportParameters(clientTP, wire.RoleClient)
	if err != nil {
		t.Fatalf("client parameters: %v", err)
	}
	sp, err := wire.UnmarshalTransportParameters(serverTP, wire.RoleServer)
	if err != nil {
		t.Fatalf("server parameters: %v", err)
	}
	// ground-truth.md §2.3 / §2.5: identical iroh defaults on both sides.
	for _, p := range []*wire.TransportParameters{&cp, &sp} {
		want := wire.DefaultTransportParameters()
		want.MaxIdleTimeout = 30000
		want.MaxUDPPayloadSize = 1472
		want.InitialMaxData = wire.MaxVarint
		want.InitialMaxStreamDataBidiLocal = 1250000
		want.InitialMaxStreamDataBidiRemote = 1250000
		want.InitialMaxStreamDataUni = 1250000
		want.InitialMaxStreamsBidi = 100
		want.InitialMaxStreamsUni = 100
		want.ActiveConnectionIDLimit = 5
		want.MaxDatagramFrameSize = 65535
		want.InitialMaxPathID, want.HasInitialMaxPathID = 7, true
		want.MinAckDelay, want.HasMinAckDelay = 1000, true
		want.MaxRemoteNATAddresses = 32
		// Copy the fields that differ per side before comparing.
		want.InitialSourceConnectionID, want.HasInitialSourceConnectionID = p.InitialSourceConnectionID, true
		want.OriginalDestinationConnectionID = p.OriginalDestinationConnectionID
		want.HasOriginalDestinationConnectionID = p.HasOriginalDestinationConnectionID
		want.StatelessResetToken, want.HasStatelessResetToken = p.StatelessResetToken, p.HasStatelessResetToken
		if got := fmt.Sprintf("%+v", *p); got != fmt.Sprintf("%+v", want) {
			t.Errorf("parameters\n got %s\nwant %+v", got, want)
		}
		// Our encoding of the same values must decode identically.
		role := wire.RoleClient
		if p == &sp {
			role = wire.RoleServer
		}
		again, err := wire.UnmarshalTransportParameters(p.Marshal(nil), role)
		if err != nil || fmt.Sprintf("%+v", again) != fmt.Sprintf("%+v", *p) {
			t.Errorf("re-marshal round trip: %v\n%+v", err, again)
		}
	}
	if !bytes.Equal(cp.InitialSourceConnectionID, clientSCID) || cp.HasOriginalDestinationConnectionID {
		t.Errorf("client ISCID %x", cp.InitialSourceConnectionID)
	}
	if !bytes.Equal(sp.OriginalDestinationConnectionID, odcid) || !sp.HasStatelessResetToken ||
		hex.EncodeToString(sp.InitialSourceConnectionID) != "738387d7c5e6fb0d" {
		t.Errorf("server ODCID %x ISCID %x", sp.OriginalDestinationConnectionID, sp.InitialSourceConnectionID)
	}
	// The client sends a server-only parameter nowhere; the same bytes
	// claimed as a client's would fail the role check.
	if _, err := wire.UnmarshalTransportParameters(serverTP, wire.RoleClient); err == nil {
		t.Error("server parameters accepted as a client's")
	}
}
