package handshake

import (
	"bytes"
	"errors"
	"testing"
)

// Every parser must turn arbitrary input into nil or an *AlertError, never
// a panic. Seeds are the real iroh handshake messages.

func checkParseErr(t *testing.T, err error) {
	t.Helper()
	var ae *AlertError
	if err != nil && !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *AlertError", err)
	}
}

func FuzzClientHello(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.clientHello[4:])
	ccfg, _ := rpkConfigs(1)
	cl, _ := NewClient(ccfg)
	cl.Start()
	f.Add(cl.NextEvent().Data[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var m clientHelloMsg
		checkParseErr(t, m.unmarshal(body))
	})
}

func FuzzServerHello(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.serverHello[4:])
	f.Add((&serverHelloMsg{random: hrrRandom, cipherSuite: 0x1301, supportedVersion: versionTLS13, selectedGroup: CurveP256, cookie: []byte{1}}).marshal()[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var m serverHelloMsg
		checkParseErr(t, m.unmarshal(body))
	})
}

func FuzzEncryptedExtensions(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.ee[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var m encryptedExtensionsMsg
		checkParseErr(t, m.unmarshal(body))
	})
}

func FuzzCertificateRequest(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.certReq[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var m certificateRequestMsg
		checkParseErr(t, m.unmarshal(body))
	})
}

func FuzzCertificate(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.serverCert[4:])
	f.Add(c.clientCert[4:])
	der, _ := selfSignedCertificate(testKey(1), nil)
	f.Add((&certificateMsg{entries: [][]byte{der}}).marshal()[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var m certificateMsg
		err := m.unmarshal(body)
		checkParseErr(t, err)
		if err != nil {
			return
		}
		for _, mode := range []Mode{ModeRawPublicKey, ModeX509} {
			_, aerr := peerKeyFromCertificate(mode, m.entries, nil)
			_, aerr2 := peerKeyFromCertificate(mode, m.entries, pub(testKey(2)))
			_, _ = aerr, aerr2
		}
		var again certificateMsg
		if err := again.unmarshal(m.marshal()[4:]); err != nil || len(again.entries) != len(m.entries) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzCertificateVerify(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.serverCV[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		var m certificateVerifyMsg
		err := m.unmarshal(body)
		checkParseErr(t, err)
		if err == nil && !bytes.Equal(m.marshal()[4:], body) {
			t.Fatal("CertificateVerify does not round-trip")
		}
	})
}

func FuzzFinished(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.serverFin[4:])
	f.Fuzz(func(t *testing.T, body []byte) {
		conn := &Conn{suite: cipherSuiteByID(TLS_AES_256_GCM_SHA384), transcript: c.clientHello}
		checkParseErr(t, conn.verifyPeerFinished(body, make([]byte, 48)))
	})
}

func FuzzNewSessionTicket(f *testing.F) {
	c := loadCapture(f)
	for _, tk := range c.tickets {
		f.Add(tk[4:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var m newSessionTicketMsg
		checkParseErr(t, m.unmarshal(body))
	})
}

// FuzzServerHandleData feeds arbitrary bytes, split at a fuzzed point,
// into a fresh server engine.
func FuzzServerHandleData(f *testing.F) {
	c := loadCapture(f)
	f.Add(c.clientHello, uint16(10))
	f.Add(c.clientHello, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		_, scfg := rpkConfigs(5)
		s, err := NewServer(scfg)
		if err != nil {
			t.Fatal(err)
		}
		n := min(int(split), len(data))
		err = s.HandleData(LevelInitial, data[:n])
		if err == nil {
			err = s.HandleData(LevelInitial, data[n:])
		}
		checkParseErr(t, err)
		if err == nil && s.State().Complete {
			t.Fatal("server completed from Initial data alone")
		}
	})
}

// FuzzClientHandleData drives a deterministic client with a mutated server
// flight; the seed is a valid flight for exactly that client.
func FuzzClientHandleData(f *testing.F) {
	ccfg, scfg := rpkConfigs(6)
	_, initial, hs := serverFlight(f, ccfg, scfg)
	f.Add(initial, hs)
	f.Fuzz(func(t *testing.T, initial, hs []byte) {
		ccfg, _ := rpkConfigs(6)
		cl, err := NewClient(ccfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Start(); err != nil {
			t.Fatal(err)
		}
		err = cl.HandleData(LevelInitial, initial)
		if err == nil && cl.readLevel == LevelHandshake {
			err = cl.HandleData(LevelHandshake, hs)
		}
		checkParseErr(t, err)
	})
}
