package handshake

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	"testing"
)

func rpkConfigs(seed uint64) (client, server *Config) {
	ck, sk := testKey(1), testKey(2)
	client = &Config{
		PrivateKey:          ck,
		ALPN:                []string{"other/1", "alkpubsub/1"},
		PeerKey:             pub(sk),
		TransportParameters: []byte("client-tp"),
		Rand:                testRand(seed),
	}
	server = &Config{
		PrivateKey:          sk,
		ALPN:                []string{"alkpubsub/1", "other/1"},
		TransportParameters: []byte("server-tp"),
		Rand:                testRand(seed + 1000),
	}
	return client, server
}

func TestHandshakeRawPublicKey(t *testing.T) {
	suites := []uint16{TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256}
	for _, suite := range suites {
		for _, group := range []CurveID{X25519, CurveP256} {
			t.Run(fmt.Sprintf("%#04x/%#04x", suite, uint16(group)), func(t *testing.T) {
				ccfg, scfg := rpkConfigs(uint64(suite) + uint64(group))
				ccfg.CipherSuites = []uint16{suite}
				ccfg.Groups = []CurveID{group}
				var clientLog, serverLog bytes.Buffer
				ccfg.KeyLogWriter, scfg.KeyLogWriter = &clientLog, &serverLog
				c, s := newOurs(t, ccfg, true), newOurs(t, scfg, false)
				if cerr, serr := run(c, s); cerr != nil || serr != nil {
					t.Fatalf("client err %v, server err %v", cerr, serr)
				}
				cr, sr := c.result(), s.result()
				if !cr.complete || !sr.complete {
					t.Fatalf("complete: client %v server %v", cr.complete, sr.complete)
				}
				checkSecrets(t, cr, sr)
				if cr.suite != suite {
					t.Errorf("suite %#x, want %#x", cr.suite, suite)
				}
				if string(cr.peerTP) != "server-tp" || string(sr.peerTP) != "client-tp" {
					t.Errorf("transport parameters: client got %q, server got %q", cr.peerTP, sr.peerTP)
				}
				cs, ss := c.c.State(), s.c.State()
				if cs.ALPN != "alkpubsub/1" || ss.ALPN != "alkpubsub/1" {
					t.Errorf("ALPN: client %q server %q", cs.ALPN, ss.ALPN)
				}
				if cs.PeerID() != [32]byte(pub(scfg.PrivateKey)) || ss.PeerID() != [32]byte(pub(ccfg.PrivateKey)) {
					t.Error("peer ids do not match the configured keys")
				}
				if cs.Group != group || !cs.Complete || !ss.Complete {
					t.Errorf("state: %+v / %+v", cs, ss)
				}
				ce, _ := c.c.ExportKeyingMaterial("iroh-relay handshake v1", []byte("ctx"), 32)
				se, _ := s.c.ExportKeyingMaterial("iroh-relay handshake v1", []byte("ctx"), 32)
				if len(ce) != 32 || !bytes.Equal(ce, se) {
					t.Errorf("exporter mismatch: %x vs %x", ce, se)
				}
				if clientLog.String() != serverLog.String() || bytes.Count(clientLog.Bytes(), []byte("\n")) != 5 {
					t.Errorf("key logs differ or incomplete:\n%s\n%s", clientLog.String(), serverLog.String())
				}
			})
		}
	}
}

func TestHandshakeHelloRetryRequest(t *testing.T) {
	ccfg, scfg := rpkConfigs(7)
	scfg.Groups = []CurveID{CurveP256}
	c, s := newOurs(t, ccfg, true), newOurs(t, scfg, false)
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("client err %v, server err %v", cerr, serr)
	}
	if !c.res.complete || !s.res.complete {
		t.Fatal("handshake did not complete")
	}
	checkSecrets(t, c.res, s.res)
	if !c.c.hrr || !s.c.hrr || c.c.State().Group != CurveP256 {
		t.Errorf("expected an HRR to P-256, got hrr=%v/%v group %#x", c.c.hrr, s.c.hrr, c.c.State().Group)
	}
}

func TestSessionTickets(t *testing.T) {
	ccfg, scfg := rpkConfigs(9)
	store := NewTicketStore()
	ccfg.SessionTickets = store
	c, s := newOurs(t, ccfg, true), newOurs(t, scfg, false)
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("client err %v, server err %v", cerr, serr)
	}
	if err := c.c.SendSessionTicket(); err == nil {
		t.Error("client SendSessionTicket succeeded")
	}
	for range 2 {
		if err := s.c.SendSessionTicket(); err != nil {
			t.Fatal(err)
		}
	}
	if cerr, serr := run(c, s); cerr != nil || serr != nil {
		t.Fatalf("client err %v, server err %v", cerr, serr)
	}
	id := [32]byte(pub(scfg.PrivateKey))
	if c.res.tickets != 2 || store.Len(id) != 2 {
		t.Fatalf("tickets: %d events, %d stored", c.res.tickets, store.Len(id))
	}
	tk, ok := store.Take(id)
	if !ok || len(tk.PSK) != 48 || tk.Suite != TLS_AES_256_GCM_SHA384 || tk.ALPN != "alkpubsub/1" || store.Len(id) != 1 {
		t.Errorf("bad ticket %+v", tk)
	}
}

func wantAlert(t *testing.T, err error, alert uint8) {
	t.Helper()
	var ae *AlertError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *AlertError", err)
	}
	if ae.Alert != alert {
		t.Fatalf("alert %d (%v), want %d", ae.Alert, ae, alert)
	}
}

func TestWrongPeerKey(t *testing.T) {
	ccfg, scfg := rpkConfigs(11)
	ccfg.PeerKey = pub(testKey(3))
	c, s := newOurs(t, ccfg, true), newOurs(t, scfg, false)
	cerr, serr := run(c, s)
	if serr != nil {
		t.Fatal(serr)
	}
	wantAlert(t, cerr, AlertUnknownCA)
	if c.res.complete || c.c.State().Complete || c.res.write[LevelApplication] != nil {
		t.Error("client reported progress past the bad certificate")
	}
	if c.c.State().PeerKey != nil {
		t.Error("client recorded the rejected peer key")
	}
	// The error sticks.
	wantAlert(t, c.c.HandleData(LevelHandshake, []byte{20, 0, 0, 1, 0}), AlertUnknownCA)
}

func TestNoCommonALPN(t *testing.T) {
	ccfg, scfg := rpkConfigs(12)
	scfg.ALPN = []string{"nope"}
	cerr, serr := run(newOurs(t, ccfg, true), newOurs(t, scfg, false))
	if cerr != nil {
		t.Fatal(cerr)
	}
	wantAlert(t, serr, AlertNoApplicationProtocol)
	if serr.(*AlertError).QUICErrorCode() != 0x178 {
		t.Error("wrong QUIC code")
	}
}

// clientHelloBytes returns the first ClientHello a client config produces.
func clientHelloBytes(t *testing.T, cfg *Config) []byte {
	t.Helper()
	c := newOurs(t, cfg, true)
	f, err := c.drain()
	if err != nil || len(f) != 1 {
		t.Fatal(err)
	}
	return f[0].data
}

func TestServerRejectsClientHello(t *testing.T) {
	tests := []struct {
		name   string
		modify func(ch *clientHelloMsg)
		alert  uint8
	}{
		{"no transport parameters", func(ch *clientHelloMsg) { ch.hasTransportParams = false }, AlertMissingExtension},
		{"no raw public keys", func(ch *clientHelloMsg) { ch.serverCertTypes = []uint8{0} }, AlertHandshakeFailure},
		{"no client cert type", func(ch *clientHelloMsg) { ch.clientCertTypes = nil }, AlertHandshakeFailure},
		{"no ed25519", func(ch *clientHelloMsg) { ch.signatureAlgorithms = []uint16{0x0804} }, AlertHandshakeFailure},
		{"no TLS 1.3", func(ch *clientHelloMsg) { ch.supportedVersions = []uint16{0x0303} }, AlertProtocolVersion},
		{"no common suite", func(ch *clientHelloMsg) { ch.cipherSuites = []uint16{0x1304} }, AlertHandshakeFailure},
		{"session id", func(ch *clientHelloMsg) { ch.sessionID = []byte{1} }, AlertIllegalParameter},
		{"compression", func(ch *clientHelloMsg) { ch.compressionMethods = []byte{1, 0} }, AlertIllegalParameter},
		{"no ALPN", func(ch *clientHelloMsg) { ch.alpn = nil }, AlertNoApplicationProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ccfg, scfg := rpkConfigs(13)
			raw := clientHelloBytes(t, ccfg)
			var ch clientHelloMsg
			if err := ch.unmarshal(raw[4:]); err != nil {
				t.Fatal(err)
			}
			tt.modify(&ch)
			s := newOurs(t, scfg, false)
			wantAlert(t, s.c.HandleData(LevelInitial, ch.marshal()), tt.alert)
		})
	}
}

// serverFlight runs a server on cfg's ClientHello and returns its Initial
// and Handshake data.
func serverFlight(t testing.TB, ccfg, scfg *Config) (client *ourEndpoint, initial, hs []byte) {
	t.Helper()
	client = newOurs(t, ccfg, true)
	f, _ := client.drain()
	s := newOurs(t, scfg, false)
	if err := s.handle(LevelInitial, f[0].data); err != nil {
		t.Fatal(err)
	}
	out, _ := s.drain()
	return client, out[0].data, out[1].data
}

func TestClientRejectsEncryptedExtensions(t *testing.T) {
	tests := []struct {
		name   string
		modify func(ee *encryptedExtensionsMsg)
		alert  uint8
	}{
		{"no transport parameters", func(ee *encryptedExtensionsMsg) { ee.hasTransportParams = false }, AlertMissingExtension},
		{"no server cert type", func(ee *encryptedExtensionsMsg) { ee.serverCertType = -1 }, AlertHandshakeFailure},
		{"x509 cert type", func(ee *encryptedExtensionsMsg) { ee.clientCertType = 0 }, AlertIllegalParameter},
		{"unsolicited server_name", func(ee *encryptedExtensionsMsg) { ee.serverNameAck = true }, AlertUnsupportedExtension},
		{"no ALPN", func(ee *encryptedExtensionsMsg) { ee.alpn = "" }, AlertNoApplicationProtocol},
		{"unoffered ALPN", func(ee *encryptedExtensionsMsg) { ee.alpn = "h3" }, AlertIllegalParameter},
		{"early data", func(ee *encryptedExtensionsMsg) { ee.earlyData = true }, AlertUnsupportedExtension},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ccfg, scfg := rpkConfigs(14)
			c, initial, hs := serverFlight(t, ccfg, scfg)
			if err := c.handle(LevelInitial, initial); err != nil {
				t.Fatal(err)
			}
			n := 4 + int(hs[3])<<0 + int(hs[2])<<8 + int(hs[1])<<16
			var ee encryptedExtensionsMsg
			if err := ee.unmarshal(hs[4:n]); err != nil {
				t.Fatal(err)
			}
			tt.modify(&ee)
			raw := ee.marshal()
			if ee.earlyData {
				raw = wrapMessage(typeEncryptedExtensions, func(b *cryptobyte.Builder) {
					addExtensions(b, append(ee.exts, extension{extEarlyData, nil}))
				})
			}
			wantAlert(t, c.handle(LevelHandshake, raw), tt.alert)
			if c.c.State().Complete {
				t.Error("complete after a bad EncryptedExtensions")
			}
		})
	}
}

func TestFragmentedDelivery(t *testing.T) {
	ccfg, scfg := rpkConfigs(15)
	c, initial, hs := serverFlight(t, ccfg, scfg)
	for i := range initial {
		if err := c.handle(LevelInitial, initial[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(hs); i += 7 {
		if err := c.handle(LevelHandshake, hs[i:min(i+7, len(hs))]); err != nil {
			t.Fatal(err)
		}
	}
	if !c.c.State().Complete {
		t.Fatal("not complete after byte-wise delivery")
	}
}

func TestDataAcrossKeyChange(t *testing.T) {
	ccfg, scfg := rpkConfigs(16)
	c, initial, hs := serverFlight(t, ccfg, scfg)
	// Handshake-level bytes glued onto the Initial ServerHello must be refused.
	wantAlert(t, c.handle(LevelInitial, append(initial, hs[:10]...)), AlertUnexpectedMessage)
}

func TestWrongLevel(t *testing.T) {
	ccfg, scfg := rpkConfigs(17)
	c, initial, _ := serverFlight(t, ccfg, scfg)
	wantAlert(t, c.handle(LevelHandshake, initial), AlertUnexpectedMessage)
}

func TestOversizedMessage(t *testing.T) {
	_, scfg := rpkConfigs(18)
	s := newOurs(t, scfg, false)
	wantAlert(t, s.handle(LevelInitial, []byte{1, 0x01, 0x00, 0x01}), AlertDecodeError)
}

func TestConfigValidation(t *testing.T) {
	ccfg, _ := rpkConfigs(19)
	bad := []func(c *Config){
		func(c *Config) { c.PrivateKey = nil },
		func(c *Config) { c.ALPN = nil },
		func(c *Config) { c.ALPN = []string{""} },
		func(c *Config) { c.PeerKey = []byte{1} },
		func(c *Config) { c.CipherSuites = []uint16{0x1304} },
		func(c *Config) { c.Groups = []CurveID{0x18} },
		func(c *Config) { c.Mode = 9 },
	}
	for i, f := range bad {
		cfg := *ccfg
		f(&cfg)
		if _, err := NewClient(&cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("case %d: err %v", i, err)
		}
	}
}
