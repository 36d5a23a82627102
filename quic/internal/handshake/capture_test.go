package handshake

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The testdata/iroh files hold the decrypted CRYPTO streams of a real
// iroh 1.0.2 (rustls 0.23) handshake and its NSS key log.

func readHexFile(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "iroh", name))
	if err != nil {
		t.Fatal(err)
	}
	return unhex(t, strings.TrimSpace(string(raw)))
}

// splitMessages cuts a CRYPTO stream into whole handshake messages.
func splitMessages(t testing.TB, stream []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	for len(stream) > 0 {
		if len(stream) < 4 {
			t.Fatal("trailing bytes in stream")
		}
		n := 4 + (int(stream[1])<<16 | int(stream[2])<<8 | int(stream[3]))
		if n > len(stream) {
			t.Fatal("truncated message in stream")
		}
		msgs = append(msgs, stream[:n])
		stream = stream[n:]
	}
	return msgs
}

type irohCapture struct {
	clientHello, serverHello                     []byte
	ee, certReq, serverCert, serverCV, serverFin []byte
	clientCert, clientCV, clientFin              []byte
	tickets                                      [][]byte
	keylog                                       map[string][]byte
	clientRandom                                 []byte
}

func loadCapture(t testing.TB) *irohCapture {
	t.Helper()
	c := &irohCapture{keylog: map[string][]byte{}}
	c.clientHello = splitMessages(t, readHexFile(t, "client_initial.hex"))[0]
	c.serverHello = splitMessages(t, readHexFile(t, "server_initial.hex"))[0]
	sh := splitMessages(t, readHexFile(t, "server_handshake.hex"))
	ch := splitMessages(t, readHexFile(t, "client_handshake.hex"))
	if len(sh) != 5 || len(ch) != 3 {
		t.Fatalf("got %d server and %d client handshake messages", len(sh), len(ch))
	}
	c.ee, c.certReq, c.serverCert, c.serverCV, c.serverFin = sh[0], sh[1], sh[2], sh[3], sh[4]
	c.clientCert, c.clientCV, c.clientFin = ch[0], ch[1], ch[2]
	c.tickets = splitMessages(t, readHexFile(t, "server_application.hex"))
	f, err := os.Open(filepath.Join("testdata", "iroh", "keylog.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 {
			c.clientRandom = unhex(t, fields[1])
			c.keylog[fields[0]] = unhex(t, fields[2])
		}
	}
	return c
}

func TestIrohCaptureParses(t *testing.T) {
	c := loadCapture(t)
	var ch clientHelloMsg
	if err := ch.unmarshal(c.clientHello[4:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ch.random, c.clientRandom) {
		t.Error("key log client random does not match the ClientHello")
	}
	if !containsUint8(ch.clientCertTypes, certTypeRawPublicKey) || !containsUint8(ch.serverCertTypes, certTypeRawPublicKey) ||
		!ch.hasTransportParams || ch.alpn[0] != "alkpubsub/1" || !strings.HasSuffix(ch.serverName, ".iroh.invalid") ||
		len(ch.sessionID) != 0 || ch.signatureAlgorithms[0] != sigEd25519 || len(ch.keyShares) != 1 {
		t.Errorf("unexpected ClientHello %+v", ch)
	}
	// Re-marshalling keeps the semantic content.
	var again clientHelloMsg
	if err := again.unmarshal(ch.marshal()[4:]); err != nil || again.serverName != ch.serverName {
		t.Errorf("round trip: %v", err)
	}
	var sh serverHelloMsg
	if err := sh.unmarshal(c.serverHello[4:]); err != nil || sh.cipherSuite != TLS_AES_256_GCM_SHA384 || sh.keyShare.group != X25519 {
		t.Fatalf("ServerHello %+v: %v", sh, err)
	}
	var ee encryptedExtensionsMsg
	if err := ee.unmarshal(c.ee[4:]); err != nil || ee.alpn != "alkpubsub/1" || ee.clientCertType != 2 || ee.serverCertType != 2 || !ee.serverNameAck {
		t.Fatalf("EncryptedExtensions %+v: %v", ee, err)
	}
	var cr certificateRequestMsg
	if err := cr.unmarshal(c.certReq[4:]); err != nil || len(cr.signatureAlgorithms) != 1 || cr.signatureAlgorithms[0] != sigEd25519 {
		t.Fatalf("CertificateRequest %+v: %v", cr, err)
	}
	if !bytes.Equal((&certificateRequestMsg{signatureAlgorithms: []uint16{sigEd25519}}).marshal(), c.certReq) {
		t.Error("our CertificateRequest differs from iroh's")
	}
	for _, raw := range [][]byte{c.serverCert, c.clientCert} {
		var cm certificateMsg
		if err := cm.unmarshal(raw[4:]); err != nil || len(cm.entries) != 1 {
			t.Fatalf("Certificate: %v", err)
		}
		k, err := ParseSPKI(cm.entries[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal((&certificateMsg{entries: [][]byte{MarshalSPKI(k)}}).marshal(), raw) {
			t.Error("our Certificate encoding differs from iroh's")
		}
	}
	for _, raw := range [][]byte{c.serverCV, c.clientCV} {
		var cv certificateVerifyMsg
		if err := cv.unmarshal(raw[4:]); err != nil || cv.scheme != sigEd25519 || len(cv.signature) != 64 {
			t.Fatalf("CertificateVerify %+v: %v", cv, err)
		}
	}
	for _, raw := range c.tickets {
		var nst newSessionTicketMsg
		if err := nst.unmarshal(raw[4:]); err != nil || nst.lifetime != 86400 || nst.maxEarlyData != 0xffffffff {
			t.Fatalf("NewSessionTicket %+v: %v", nst, err)
		}
	}
}

func certKey(t *testing.T, raw []byte) ed25519.PublicKey {
	var cm certificateMsg
	if err := cm.unmarshal(raw[4:]); err != nil {
		t.Fatal(err)
	}
	k, err := ParseSPKI(cm.entries[0])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestIrohCaptureTranscript replays rustls' transcript: both
// CertificateVerify signatures and both Finished MACs (keyed from the logged
// handshake traffic secrets) must verify with our code.
func TestIrohCaptureTranscript(t *testing.T) {
	c := loadCapture(t)
	conn := &Conn{suite: cipherSuiteByID(TLS_AES_256_GCM_SHA384)}
	conn.transcript = append(append(append([]byte{}, c.clientHello...), c.serverHello...), c.ee...)
	conn.transcript = append(append(conn.transcript, c.certReq...), c.serverCert...)

	conn.peerKey = certKey(t, c.serverCert)
	if err := conn.verifyPeerSignature(c.serverCV[4:], serverSignatureContext); err != nil {
		t.Fatalf("server CertificateVerify: %v", err)
	}
	if err := conn.verifyPeerSignature(c.serverCV[4:], clientSignatureContext); err == nil {
		t.Fatal("server signature verified under the client context")
	}
	conn.transcript = append(conn.transcript, c.serverCV...)
	if err := conn.verifyPeerFinished(c.serverFin[4:], c.keylog[keyLogServerHandshake]); err != nil {
		t.Fatalf("server Finished: %v", err)
	}
	if err := conn.verifyPeerFinished(c.serverFin[4:], c.keylog[keyLogClientHandshake]); err == nil {
		t.Fatal("server Finished verified with the client key")
	}
	conn.transcript = append(append(conn.transcript, c.serverFin...), c.clientCert...)

	conn.peerKey = certKey(t, c.clientCert)
	if err := conn.verifyPeerSignature(c.clientCV[4:], clientSignatureContext); err != nil {
		t.Fatalf("client CertificateVerify: %v", err)
	}
	conn.transcript = append(conn.transcript, c.clientCV...)
	if err := conn.verifyPeerFinished(c.clientFin[4:], c.keylog[keyLogClientHandshake]); err != nil {
		t.Fatalf("client Finished: %v", err)
	}
}

// TestIrohClientHelloAccepted runs our server on iroh's real ClientHello.
func TestIrohClientHelloAccepted(t *testing.T) {
	c := loadCapture(t)
	_, scfg := rpkConfigs(21)
	s := newOurs(t, scfg, false)
	if err := s.handle(LevelInitial, c.clientHello); err != nil {
		t.Fatal(err)
	}
	st := s.c.State()
	if st.Suite != TLS_AES_256_GCM_SHA384 || st.Group != X25519 || st.ALPN != "alkpubsub/1" || s.c.hrr {
		t.Errorf("negotiated %+v", st)
	}
	flights, err := s.drain()
	if err != nil || len(flights) != 2 {
		t.Fatalf("flights %d: %v", len(flights), err)
	}
	// The EncryptedExtensions must not echo server_name (iroh main sends no SNI).
	var ee encryptedExtensionsMsg
	msgs := splitMessages(t, flights[1].data)
	if err := ee.unmarshal(msgs[0][4:]); err != nil || ee.serverNameAck {
		t.Errorf("EncryptedExtensions %+v: %v", ee, err)
	}
}

// TestIrohEncryptedExtensionsAccepted runs our client's EE checks on
// iroh's real EncryptedExtensions (it acks SNI, so we must have sent one).
func TestIrohEncryptedExtensionsAccepted(t *testing.T) {
	c := loadCapture(t)
	ccfg, _ := rpkConfigs(22)
	ccfg.ALPN = []string{"alkpubsub/1"}
	ccfg.ServerName = "example.iroh.invalid"
	cl := newOurs(t, ccfg, true)
	cl.c.state = stateWaitEncryptedExtensions
	if err := cl.c.readEncryptedExtensions(c.ee); err != nil {
		t.Fatal(err)
	}
	ccfg.ServerName = ""
	cl = newOurs(t, ccfg, true)
	wantAlert(t, cl.c.readEncryptedExtensions(c.ee), AlertUnsupportedExtension)
}
